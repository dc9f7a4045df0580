-- department.head_id -> person, person.department_id -> department: a two-table cycle,
-- breakable only at the nullable department.head_id.
CREATE TABLE department (
    department_id INTEGER NOT NULL PRIMARY KEY,
    name VARCHAR(60) NOT NULL,
    head_id INTEGER NULL
);
CREATE TABLE person (
    person_id INTEGER NOT NULL PRIMARY KEY,
    first_name VARCHAR(40) NOT NULL,
    last_name VARCHAR(40) NOT NULL,
    department_id INTEGER NOT NULL REFERENCES department (department_id)
);
ALTER TABLE department ADD CONSTRAINT department_head_fk FOREIGN KEY (head_id) REFERENCES person (person_id);
