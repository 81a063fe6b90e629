"""KPIs: the SQL history engine, the live windows in Redis, the lead dashboard's data, reports."""
