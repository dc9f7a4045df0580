-- Columns of composite (row) types, with CHECKs on their fields, as in real geography and billing
-- schemas: (coordinates).latitude BETWEEN -90 AND 90. Also a composite with a domain field, one with
-- an enum field, a nullable composite column and a UNIQUE over a composite column.
CREATE TYPE geocoord AS (latitude numeric(9, 6), longitude numeric(9, 6));
CREATE DOMAIN percent AS numeric(5, 2) CHECK (VALUE BETWEEN 0 AND 100);
CREATE TYPE currency AS ENUM ('EUR', 'USD', 'GBP');
CREATE TYPE price AS (amount numeric(12, 2), currency currency, discount percent);
CREATE TYPE "Postal address" AS (street text, city varchar(40), "Post code" varchar(10));

CREATE TABLE country (
    code char(2) PRIMARY KEY,
    name text NOT NULL UNIQUE,
    centre geocoord NOT NULL,
    CHECK ((centre).latitude BETWEEN -90 AND 90),
    CHECK ((centre).longitude BETWEEN -180 AND 180)
);

CREATE TABLE city (
    city_id serial PRIMARY KEY,
    country_code char(2) NOT NULL REFERENCES country,
    name text NOT NULL,
    coordinates geocoord NOT NULL UNIQUE,
    airport geocoord,
    CONSTRAINT city_latitude CHECK ((coordinates).latitude BETWEEN -90 AND 90),
    CONSTRAINT city_longitude CHECK ((coordinates).longitude BETWEEN -180 AND 180),
    CONSTRAINT airport_north CHECK ((airport).latitude > 0 AND (airport).longitude BETWEEN -180 AND 180)
);

CREATE TABLE shipment (
    shipment_id bigserial PRIMARY KEY,
    origin int NOT NULL REFERENCES city,
    destination int NOT NULL REFERENCES city,
    cost price NOT NULL CHECK ((cost).amount > 0 AND (cost).currency IS NOT NULL),
    deliver_to "Postal address",
    pickup geocoord NOT NULL CHECK ((pickup).latitude BETWEEN -90 AND 90),
    dropoff geocoord NOT NULL CHECK ((dropoff).latitude BETWEEN -90 AND 90),
    CHECK (origin <> destination)
);
