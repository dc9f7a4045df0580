-- An employee hierarchy: a nullable self-referencing FK (broken by writing NULL, then UPDATE).
CREATE TABLE employee (
    employee_id INTEGER NOT NULL PRIMARY KEY,
    full_name VARCHAR(80) NOT NULL,
    email VARCHAR(120) NOT NULL UNIQUE,
    manager_id INTEGER NULL REFERENCES employee (employee_id)
);
