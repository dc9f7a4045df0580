-- Identifier-shaped and personal values detected by content, not by name: an order reference
-- (ORD-12345), a card number, an IBAN and a client IP, none of which may be learned as values.
SELECT setseed(0.7);
CREATE TABLE shipment (
    shipment_id integer PRIMARY KEY,
    reference varchar(12) NOT NULL,
    paid_with varchar(19),
    account varchar(34),
    origin varchar(15),
    weight_kg numeric(6, 2) NOT NULL
);
INSERT INTO shipment
SELECT i,
       'ORD-' || lpad((10000 + floor(random() * 89999))::int::text, 5, '0'),
       lpad(floor(random() * 9999)::int::text, 4, '0') || ' ' || lpad(floor(random() * 9999)::int::text, 4, '0')
           || ' ' || lpad(floor(random() * 9999)::int::text, 4, '0') || ' ' || lpad(floor(random() * 9999)::int::text, 4, '0'),
       'DE' || lpad(floor(random() * 99)::int::text, 2, '0') || lpad(floor(random() * 1e9)::bigint::text, 9, '0')
           || lpad(floor(random() * 1e9)::bigint::text, 9, '0'),
       floor(1 + random() * 254)::int || '.' || floor(random() * 255)::int || '.' || floor(random() * 255)::int
           || '.' || floor(1 + random() * 254)::int,
       round((0.5 + random() * 30)::numeric, 2)
FROM generate_series(1, 500) AS i;
