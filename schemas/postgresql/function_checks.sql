-- CHECKs that call user functions: dbsynth cannot translate them, so the target database evaluates
-- them on the generated rows (a temporary table) and failing rows are resampled before the write.
CREATE FUNCTION is_even(n integer) RETURNS boolean LANGUAGE sql IMMUTABLE AS $$ SELECT n % 2 = 0 $$;
CREATE TABLE gadget (
    gadget_id integer PRIMARY KEY,
    n integer NOT NULL CHECK (is_even(n)),
    m integer CHECK (is_even(m) OR m > 1000),
    label varchar(20) NOT NULL
);
CREATE TABLE part (
    part_id integer PRIMARY KEY,
    gadget_id integer NOT NULL REFERENCES gadget (gadget_id),
    weight integer NOT NULL CONSTRAINT even_weight CHECK (is_even(weight) AND weight > 0)
);
