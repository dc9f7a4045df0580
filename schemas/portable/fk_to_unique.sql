-- An FK that references a UNIQUE column that is not the primary key.
CREATE TABLE account (
    account_id INTEGER NOT NULL PRIMARY KEY,
    account_code VARCHAR(16) NOT NULL UNIQUE,
    company VARCHAR(80) NOT NULL
);
CREATE TABLE invoice (
    invoice_id INTEGER NOT NULL PRIMARY KEY,
    account_code VARCHAR(16) NOT NULL REFERENCES account (account_code),
    total NUMERIC(10, 2) NOT NULL,
    issued_on DATE NOT NULL
);
