-- A range-partitioned table: the parent is written, its partitions are not; an FK declared only
-- on the partitions counts as the parent's (as in Pagila's payment).
CREATE TABLE store (
    store_id integer PRIMARY KEY,
    city varchar(50) NOT NULL
);
CREATE TABLE sale (
    sale_id integer NOT NULL,
    sold_at timestamptz NOT NULL,
    store_id integer NOT NULL,
    amount numeric(8, 2) NOT NULL,
    PRIMARY KEY (sold_at, sale_id)
) PARTITION BY RANGE (sold_at);
CREATE TABLE sale_2015_2020 PARTITION OF sale FOR VALUES FROM ('2015-01-01') TO ('2020-01-01');
CREATE TABLE sale_2020_2030 PARTITION OF sale FOR VALUES FROM ('2020-01-01') TO ('2030-01-01');
ALTER TABLE sale_2015_2020 ADD CONSTRAINT sale_2015_2020_store_fk FOREIGN KEY (store_id) REFERENCES store (store_id);
ALTER TABLE sale_2020_2030 ADD CONSTRAINT sale_2020_2030_store_fk FOREIGN KEY (store_id) REFERENCES store (store_id);
