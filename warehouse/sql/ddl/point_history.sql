-- Each metering point's kept reading of the month in numbers: what marts.reading_context reads of the
-- history (checks/history.py POINT_MONTHS_SQL). SQL: warehouse/sql/point_history.sql.
create table if not exists marts.point_history (
    period           varchar not null,
    mp_id            ubigint not null,    -- hash of mp_key (as marts.meter_readings.mp_id)
    month            integer not null,    -- months since 0000-01 (2026-03: 24314)
    status           tinyint not null,    -- 1 READ, 2 MISSED, 3 ESTIMATED, 0 other
    this_read        double,              -- 本次示数
    last_read        double,              -- 上次示数
    multiplier       double,              -- 综合倍率 (master, else the reading)
    digits           double,              -- integer register digits (抄表位数 6.2 -> 6)
    read_day         integer not null,    -- days since 1970-01-01: the read date, else the 例日, else the 15th
    dated            boolean not null,    -- the read date was delivered
    meter            bigint not null,     -- 63-bit hash of the meter number (-1: none): equal codes, same meter
    config_version   varchar not null,
    computed_at      timestamp not null
);
