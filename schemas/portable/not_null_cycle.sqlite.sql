-- SQLite has no ALTER TABLE ADD CONSTRAINT; it accepts a forward reference instead.
CREATE TABLE store (
    store_id INTEGER NOT NULL PRIMARY KEY,
    name VARCHAR(60) NOT NULL,
    manager_staff_id INTEGER NOT NULL REFERENCES staff (staff_id)
);
CREATE TABLE staff (
    staff_id INTEGER NOT NULL PRIMARY KEY,
    first_name VARCHAR(40) NOT NULL,
    last_name VARCHAR(40) NOT NULL,
    store_id INTEGER NOT NULL REFERENCES store (store_id)
);
