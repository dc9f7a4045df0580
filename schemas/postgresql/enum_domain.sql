-- An enum column and domains (with CHECK) resolved to their base types.
CREATE TYPE ticket_state AS ENUM ('open', 'in_progress', 'closed');
CREATE DOMAIN percentage AS numeric(5, 2) CHECK (VALUE >= 0 AND VALUE <= 100);
CREATE DOMAIN us_postal_code AS varchar(10) NOT NULL CHECK (VALUE ~ '^\d{5}$' OR VALUE ~ '^\d{5}-\d{4}$');
CREATE DOMAIN release_year AS integer CONSTRAINT release_year_check CHECK (VALUE >= 1901 AND VALUE <= 2155);
CREATE TABLE ticket (
    ticket_id serial PRIMARY KEY,
    state ticket_state NOT NULL,
    previous_state ticket_state,
    progress percentage NOT NULL,
    postal_code us_postal_code,
    since release_year
);
