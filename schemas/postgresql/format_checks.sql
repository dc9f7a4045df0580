-- Format CHECKs: random text would almost never match, so generation aims at the pattern.
CREATE TABLE product_code (
    id integer PRIMARY KEY,
    sku varchar(8) NOT NULL UNIQUE CHECK (sku ~ '^[A-Z]{3}-[0-9]{4}$'),
    region text NOT NULL CHECK (region LIKE 'EU-%'),
    ref text CHECK (ref SIMILAR TO '[0-9]+(-[0-9]+)?'),
    email text CHECK (email ~* '^[a-z0-9._]+@[a-z]+\.(com|org|net)$'),
    plate char(7) CHECK (plate ~ '^[A-Z]{2}[0-9]{3}[A-Z]{2}$')
);
