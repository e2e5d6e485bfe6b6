-- 经济责任制考核记录: one row per deduction, bonus, veto or floor of a month's assessment, with its
-- evidence and the scoring version. SQL: warehouse/sql/assessment_ledger.sql; docs/assessment.md.
create table if not exists marts.assessment_ledger (
    period           varchar not null,
    ledger_id        varchar not null,    -- item:level:team:reader:unit — stable across rebuilds
    level            varchar not null,    -- reader | team
    team             varchar not null,
    reader           varchar,             -- null: a team-level item
    item             varchar not null,    -- config/assessment.toml [labels]
    points           double not null,     -- the change to the score: a deduction < 0, a bonus > 0
    team_points      double not null,     -- its share in the team score (points × the reader's weight)
    weight           double,              -- the reader's share of the team's customers due (reader rows)
    quantity         double not null,     -- how many units the points are for
    unit             varchar not null,    -- customer | finding | segment | half_day | case | step | score
    evidence_kind    varchar not null,    -- finding | report | segment | kpi | score
    evidence_id      varchar not null,    -- 工单编号, 报告单编号, 抄表段编号, the KPI, or 'floor'
    segment_no       varchar,
    customer_no      varchar,
    delivery_id      varchar,             -- the evidence's source: delivery, sheet, line, file
    sheet            varchar,
    source_row       integer,
    file_name        varchar,
    evidence         json not null,       -- everything needed to check the row by hand
    scoring_version  varchar not null,    -- config/assessment.toml version ...
    scoring_hash     varchar not null,    -- ... and 12 hex of that file's sha256
    config_version   varchar not null,
    computed_at      timestamp not null
);
