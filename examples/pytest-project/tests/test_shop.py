import pytest
import sqlalchemy as sa

from shopapp import best_customers, cancel, order_total


def test_order_total_adds_up_its_lines(shop_db):
    with shop_db.connect() as conn:
        order_id = conn.execute(sa.text("SELECT order_id FROM order_line LIMIT 1")).scalar()
        lines = conn.execute(sa.text("SELECT quantity, unit_price FROM order_line WHERE order_id = :o"),
                             {"o": order_id}).all()
        assert order_total(conn, order_id) == pytest.approx(sum(q * float(p) for q, p in lines))


def test_best_customers_are_ranked(shop_db):
    with shop_db.connect() as conn:
        ranked = best_customers(conn, 5)
    assert len(ranked) == 5
    assert [s for _, s in ranked] == sorted((s for _, s in ranked), reverse=True)


def test_cancelled_orders_do_not_count(shop_db):
    with shop_db.engine.begin() as conn:
        top, spent = best_customers(conn, 1)[0]
        for (order_id,) in conn.execute(sa.text('SELECT order_id FROM "order" WHERE customer_id = :c'), {"c": top}):
            cancel(conn, order_id)
        assert all(c != top for c, _ in best_customers(conn, 40))


def test_each_test_starts_from_the_seeded_database(shop_db):
    # the previous test cancelled orders in its own copy only; shop_db.connection is one connection
    # for the whole test, closed after it
    assert shop_db.connection.execute(sa.text("SELECT count(*) FROM customer")).scalar() == 40
    assert shop_db.rows["customer"] == 40


@pytest.mark.dbsynth(rows={"customer": 3})
def test_a_test_can_ask_for_other_sizes(shop_db):
    with shop_db.connect() as conn:
        assert conn.execute(sa.text("SELECT count(DISTINCT customer_id) FROM \"order\"")).scalar() <= 3
