"""Seeded databases for tests: the pieces behind the pytest plugin (:mod:`dbsynth.pytest`).

A :class:`~dbsynth.testing.seeding.Settings` names what a database holds; a template per settings is
seeded once (:func:`~dbsynth.testing.seeding.fill`) and then served per test by
:class:`~dbsynth.testing.postgres.PostgresTemplate` or :class:`~dbsynth.testing.mysql.MySqlTemplate`
(SQLite files are simply copied by the plugin).
"""
