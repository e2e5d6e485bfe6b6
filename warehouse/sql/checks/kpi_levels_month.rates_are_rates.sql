-- Every KPI is a rate of its counts: within [0, 1] (差错户数 per 万户 within [0, 10000]), its numerator
-- never above its denominator, and a null value always says why (<kpi>_null_reason). 差错率(电量) is not
-- bounded by 1: the energy the errors affected is not part of the energy recorded (a 漏抄 recorded 0 kWh,
-- a wrong multiplier recorded a tenth), so a small segment's can exceed its 应抄电量 (seen on the default
-- demo: up to 105 × on one segment); it is only never negative. The rows returned are
-- the KPIs that break this, with the level and key of their row.
with kpis as (
    select level, team, reader, segment_no,
           unnest([
               {'kpi': 'actual_read_rate', 'value': actual_read_rate, 'num': customers_read::double, 'den': customers_due::double, 'reason': actual_read_rate_null_reason},
               {'kpi': 'missed_rate', 'value': missed_rate, 'num': customers_missed, 'den': customers_due, 'reason': missed_rate_null_reason},
               {'kpi': 'estimated_rate', 'value': estimated_rate, 'num': customers_estimated, 'den': customers_due, 'reason': estimated_rate_null_reason},
               {'kpi': 'error_rate', 'value': error_rate, 'num': customers_with_error, 'den': customers_read, 'reason': error_rate_null_reason},
               {'kpi': 'error_rate_meter', 'value': error_rate_meter, 'num': meters_with_error, 'den': meters_due, 'reason': error_rate_meter_null_reason},
               {'kpi': 'error_rate_kwh', 'value': error_rate_kwh, 'num': null, 'den': null, 'reason': error_rate_kwh_null_reason},
               {'kpi': 'errors_per_10k', 'value': errors_per_10k / 10000.0, 'num': customers_with_error, 'den': customers_read, 'reason': errors_per_10k_null_reason},
               {'kpi': 'on_time_rate', 'value': on_time_rate, 'num': customers_on_time, 'den': customers_due, 'reason': on_time_rate_null_reason},
               {'kpi': 'upload_timely_rate', 'value': upload_timely_rate, 'num': customers_upload_timely, 'den': customers_upload_known, 'reason': upload_timely_rate_null_reason},
               {'kpi': 'anomaly_report_rate', 'value': anomaly_report_rate, 'num': reports_in_time, 'den': reports, 'reason': anomaly_report_rate_null_reason},
               {'kpi': 'defect_closure_rate', 'value': defect_closure_rate, 'num': defects_closed_in_time, 'den': defects_due, 'reason': defect_closure_rate_null_reason},
               {'kpi': 'new_change_review_rate', 'value': new_change_review_rate, 'num': customers_verified, 'den': customers_new_changed, 'reason': new_change_review_rate_null_reason},
               {'kpi': 'zero_check_rate_hv', 'value': zero_check_rate_hv, 'num': zero_runs_checked_hv, 'den': zero_runs_hv, 'reason': zero_check_rate_hv_null_reason},
               {'kpi': 'zero_check_rate_lv_nonres', 'value': zero_check_rate_lv_nonres, 'num': zero_runs_checked_lv_nonres, 'den': zero_runs_lv_nonres, 'reason': zero_check_rate_lv_nonres_null_reason},
               {'kpi': 'zero_check_rate_lv_res', 'value': zero_check_rate_lv_res, 'num': zero_runs_checked_lv_res, 'den': zero_runs_lv_res, 'reason': zero_check_rate_lv_res_null_reason}
           ], recursive := true)
    from marts.kpi_levels_month
    where period = $period
)
select *
from kpis
where value < 0 or (value > 1 and kpi <> 'error_rate_kwh') or num > den or (value is null) <> (reason is not null)
