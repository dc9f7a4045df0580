-- A parent attribute that drives both a child's column and how many children a parent has:
-- 'pro' accounts make many large payments, 'basic' accounts few small ones. Data is generated with
-- a fixed seed so fit → generate can be checked for both dependencies.
SELECT setseed(0.42);
CREATE TABLE account (
    account_id integer PRIMARY KEY,
    tier varchar(10) NOT NULL CHECK (tier IN ('basic', 'pro')),
    region varchar(10) NOT NULL
);
CREATE TABLE charge (
    charge_id integer PRIMARY KEY,
    account_id integer NOT NULL REFERENCES account (account_id),
    amount numeric(8, 2) NOT NULL CHECK (amount > 0)
);
INSERT INTO account
SELECT i, CASE WHEN random() < 0.3 THEN 'pro' ELSE 'basic' END,
       (ARRAY['north', 'south', 'east', 'west'])[1 + floor(random() * 4)::int]
FROM generate_series(1, 400) AS i;
INSERT INTO charge (charge_id, account_id, amount)
SELECT row_number() OVER (), a.account_id,
       round((CASE WHEN a.tier = 'pro' THEN 200 + random() * 100 ELSE 5 + random() * 20 END)::numeric, 2)
FROM account a
CROSS JOIN LATERAL generate_series(1, CASE WHEN a.tier = 'pro' THEN 8 + floor(random() * 5)::int
                                          ELSE 1 + floor(random() * 2)::int END) AS g;
