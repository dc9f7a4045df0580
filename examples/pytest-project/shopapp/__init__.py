"""A tiny application over the demo shop schema, tested with dbsynth's pytest plugin."""

from __future__ import annotations

import sqlalchemy as sa


def order_total(conn: sa.Connection, order_id: int) -> float:
    """What the customer pays for an order: the sum of its lines."""
    total = conn.execute(sa.text("SELECT sum(quantity * unit_price) FROM order_line WHERE order_id = :o"),
                         {"o": order_id}).scalar()
    return float(total or 0)


def best_customers(conn: sa.Connection, n: int = 5) -> list[tuple[int, float]]:
    """The ``n`` customers who spent most on orders that were not cancelled."""
    rows = conn.execute(sa.text(
        'SELECT o.customer_id, sum(l.quantity * l.unit_price) AS spent FROM "order" o '
        "JOIN order_line l ON l.order_id = o.order_id WHERE o.status <> 'cancelled' "
        "GROUP BY o.customer_id ORDER BY spent DESC, o.customer_id LIMIT :n"), {"n": n}).all()
    return [(int(c), float(s)) for c, s in rows]


def cancel(conn: sa.Connection, order_id: int) -> None:
    conn.execute(sa.text("UPDATE \"order\" SET status = 'cancelled', shipped_at = NULL WHERE order_id = :o"),
                 {"o": order_id})
