-- SQLite has no ALTER TABLE ADD CONSTRAINT; it accepts a forward reference instead.
CREATE TABLE department (
    department_id INTEGER NOT NULL PRIMARY KEY,
    name VARCHAR(60) NOT NULL,
    head_id INTEGER NULL REFERENCES person (person_id)
);
CREATE TABLE person (
    person_id INTEGER NOT NULL PRIMARY KEY,
    first_name VARCHAR(40) NOT NULL,
    last_name VARCHAR(40) NOT NULL,
    department_id INTEGER NOT NULL REFERENCES department (department_id)
);
