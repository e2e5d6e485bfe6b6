"""Prepare steps of the marts whose logic is Python (see warehouse/marts.py): each module's
`prepare(conn, values)` reads what it needs, calls the pure functions of checks/, and returns
the frames its SQL file inserts."""
