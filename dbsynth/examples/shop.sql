-- The demo's embedded database: a small shop, schema only (dbsynth demo seeds it).
CREATE TABLE category (
    category_id INTEGER PRIMARY KEY,
    name VARCHAR(40) NOT NULL UNIQUE,
    parent_id INTEGER NULL REFERENCES category (category_id)
);
CREATE TABLE customer (
    customer_id INTEGER PRIMARY KEY AUTOINCREMENT,
    first_name VARCHAR(40) NOT NULL,
    last_name VARCHAR(40) NOT NULL,
    email VARCHAR(120) NOT NULL UNIQUE,
    phone VARCHAR(30),
    city VARCHAR(60),
    country VARCHAR(60),
    created_at TIMESTAMP NOT NULL
);
CREATE TABLE product (
    product_id INTEGER PRIMARY KEY,
    category_id INTEGER NOT NULL REFERENCES category (category_id),
    sku VARCHAR(12) NOT NULL UNIQUE,
    title VARCHAR(120) NOT NULL,
    price NUMERIC(8, 2) NOT NULL CHECK (price > 0),
    in_stock BOOLEAN NOT NULL
);
CREATE TABLE "order" (
    order_id INTEGER PRIMARY KEY,
    customer_id INTEGER NOT NULL REFERENCES customer (customer_id),
    status VARCHAR(10) NOT NULL CHECK (status IN ('new', 'paid', 'shipped', 'cancelled')),
    ordered_at TIMESTAMP NOT NULL,
    shipped_at TIMESTAMP,
    CHECK (shipped_at IS NULL OR shipped_at >= ordered_at),
    CHECK (status <> 'shipped' OR shipped_at IS NOT NULL)
);
CREATE TABLE order_line (
    order_id INTEGER NOT NULL REFERENCES "order" (order_id),
    product_id INTEGER NOT NULL REFERENCES product (product_id),
    quantity INTEGER NOT NULL CHECK (quantity BETWEEN 1 AND 50),
    unit_price NUMERIC(8, 2) NOT NULL CHECK (unit_price > 0),
    PRIMARY KEY (order_id, product_id)
);
CREATE TABLE review (
    review_id INTEGER PRIMARY KEY,
    product_id INTEGER NOT NULL REFERENCES product (product_id),
    customer_id INTEGER NOT NULL REFERENCES customer (customer_id),
    stars INTEGER NOT NULL CHECK (stars >= 1 AND stars <= 5),
    body TEXT,
    UNIQUE (product_id, customer_id)
);
