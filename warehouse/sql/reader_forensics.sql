-- marts.reader_forensics: digit forensics and fabrication signatures per meter reader over the 12
-- billing months ending with the month: terminal-digit heaping (0/5), last-digit uniformity, DIGIT_SLIP
-- flags per reading, and how close the reader's readings sit to the expected use against their peers.
-- partition: month
-- key: team, reader
-- inputs: marts.meter_readings, marts.reading_context, marts.reading_flags
-- prepare: reader_forensics
-- history: forensics.toml scope.window_months
--
-- Scope: 已抄 on-site readings (not remote; no read mode counts as on-site, config/forensics.toml
-- [scope]) of the window, attributed to the reader each reading names. A reader's team is the team of
-- their latest month in the window. The unattributed reader '(未指定)' gets one row per team with its
-- statistics, never ranked, never flagged, never a peer. With [scope] current_readers_only, only
-- readers with on-site readings this month get a row.
-- digit_counts count the last integer digit of 本次示数 (a register that did not move is left out:
-- [digits] exclude_unchanged, so their sum can be below `reads`); heaping and the chi-square are null
-- below [digits] min_reads. DIGIT_SLIP flags are those of the readings in scope.
-- Signature: r = ln(use / reference use) (marts.reading_context: use_kwh / expected_smooth, the billing
-- system's reference use a handheld shows and a made-up reading copies; both > 0);
-- residual_dispersion = 1.4826 × MAD(r); peer_dispersion = median dispersion of the other ranked
-- readers of the team (fewer than [residuals] min_team_peers: of the centre); signature = peer / own
-- (own floored at [residuals] dispersion_floor); ranked when residual_reads ≥ [residuals] min_reads.
-- The rows are computed by warehouse/steps/reader_forensics.py (checks/forensics.py) and registered
-- as reader_forensics_rows; the limits behind flag_reasons are in config/forensics.toml [flags].
insert into marts.reader_forensics by name
with forensics as (
    select * from reader_forensics_rows
),
final as (
    select $period                        as period,
           team,
           reader,
           reads::bigint                  as reads,
           reads_month::bigint            as reads_month,
           months::integer                as months,
           digit_counts::bigint[]         as digit_counts,
           heaping_share,
           heaping_index,
           last_digit_chi2,
           last_digit_p,
           digit_slip_flags::bigint       as digit_slip_flags,
           digit_slip_share,
           residual_reads::bigint         as residual_reads,
           residual_dispersion,
           peer_dispersion,
           signature,
           signature_rank::integer        as signature_rank,
           signature_pct,
           flagged,
           flag_reasons::varchar[]        as flag_reasons,
           $config_version                as config_version,
           now()::timestamp               as computed_at
    from forensics
)
select * from final
