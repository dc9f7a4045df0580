-- store.manager_staff_id -> staff, staff.store_id -> store: a two-table cycle of NOT NULL,
-- non-deferrable FKs (Sakila's shape). No edge can be written NULL; the load fills both from the
-- key pools with the check off and validates it afterwards.
CREATE TABLE store (
    store_id INTEGER NOT NULL PRIMARY KEY,
    name VARCHAR(60) NOT NULL,
    manager_staff_id INTEGER NOT NULL
);
CREATE TABLE staff (
    staff_id INTEGER NOT NULL PRIMARY KEY,
    first_name VARCHAR(40) NOT NULL,
    last_name VARCHAR(40) NOT NULL,
    store_id INTEGER NOT NULL,
    FOREIGN KEY (store_id) REFERENCES store (store_id)
);
ALTER TABLE store ADD CONSTRAINT store_manager_fk FOREIGN KEY (manager_staff_id) REFERENCES staff (staff_id);
