from . import retail_sync_lag_report
from . import sale_report
