-- A log table without a primary key, referencing a keyed table.
CREATE TABLE device (
    device_id INTEGER NOT NULL PRIMARY KEY,
    hostname VARCHAR(63) NOT NULL
);
CREATE TABLE event_log (
    device_id INTEGER NOT NULL REFERENCES device (device_id),
    logged_at TIMESTAMP NOT NULL,
    level VARCHAR(8) NOT NULL,
    message VARCHAR(200) NULL
);
