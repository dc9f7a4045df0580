-- The rules example: an order system whose invariants are not (all) in the schema.
CREATE TABLE customer (
    customer_id integer PRIMARY KEY,
    name varchar(80) NOT NULL,
    signed_up date NOT NULL
);
CREATE TABLE orders (
    order_id integer PRIMARY KEY,
    customer_id integer NOT NULL REFERENCES customer (customer_id),
    status varchar(10) NOT NULL,
    ordered_at date NOT NULL,
    shipped_at date,
    total numeric(10, 2),
    reference varchar(12) NOT NULL
);
CREATE TABLE order_line (
    order_id integer NOT NULL REFERENCES orders (order_id),
    line_no integer NOT NULL,
    unit_price numeric(8, 2) NOT NULL,
    quantity integer NOT NULL,
    PRIMARY KEY (order_id, line_no)
);
