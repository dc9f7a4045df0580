-- CHECK expressions after PostgreSQL's documentation (5.5.1, "Check Constraints") and beyond:
-- column and table constraints, named ones, CASE, COALESCE, EXTRACT, date arithmetic, char_length,
-- NOT, BETWEEN, IN, IS NOT NULL and SIMILAR TO. Every one must hold in what dbsynth writes.
CREATE TABLE products (
    product_no integer PRIMARY KEY,
    name text NOT NULL CHECK (char_length(name) >= 2),
    price numeric CHECK (price > 0),
    discounted_price numeric CHECK (discounted_price > 0),
    CHECK (price > discounted_price)
);
CREATE TABLE shipments (
    shipment_id integer PRIMARY KEY,
    kind varchar(10) NOT NULL CONSTRAINT kind_known CHECK (kind IN ('parcel', 'pallet', 'letter')),
    weight_kg numeric(7, 2) NOT NULL,
    sent_on date NOT NULL CHECK (EXTRACT(YEAR FROM sent_on) >= 2018),
    delivered_on date,
    priority integer NOT NULL CHECK (NOT (priority < 1 OR priority > 5)),
    note text CHECK (note SIMILAR TO '%'),
    CONSTRAINT delivered_within_a_month CHECK (delivered_on <= sent_on + 30 AND delivered_on >= sent_on),
    CONSTRAINT weight_by_kind CHECK (CASE WHEN kind = 'letter' THEN weight_kg <= 2
                                          WHEN kind = 'parcel' THEN weight_kg BETWEEN 0.1 AND 40
                                          ELSE weight_kg > 40 END),
    CONSTRAINT delivered_known CHECK (COALESCE(delivered_on, sent_on) >= sent_on)
);
