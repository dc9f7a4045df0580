-- CHECK forms the schema-only generator must satisfy: column vs constant, column vs column,
-- IN list, BETWEEN, IS NOT NULL, and AND/OR of these.
CREATE TABLE booking (
    booking_id INTEGER NOT NULL PRIMARY KEY,
    guests INTEGER NOT NULL CHECK (guests > 0),
    nights INTEGER NOT NULL CHECK (nights BETWEEN 1 AND 30),
    status VARCHAR(12) NOT NULL CHECK (status IN ('pending', 'confirmed', 'cancelled')),
    price NUMERIC(8, 2) NOT NULL CHECK (price >= 10 AND price <= 5000),
    discount NUMERIC(8, 2) NULL,
    check_in DATE NOT NULL,
    check_out DATE NOT NULL,
    cancelled_at DATE NULL,
    CONSTRAINT stay_order CHECK (check_out > check_in),
    CONSTRAINT discount_below_price CHECK (discount IS NULL OR discount < price),
    CONSTRAINT cancelled_needs_date CHECK (status <> 'cancelled' OR cancelled_at IS NOT NULL),
    CONSTRAINT room_limit CHECK ((guests <= 4 AND nights <= 14) OR status = 'pending')
);
