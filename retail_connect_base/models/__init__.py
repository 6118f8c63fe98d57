from . import retail_backend
from . import retail_secret
from . import retail_sync_policy
from . import retail_binding
from . import retail_event
from . import retail_exchange
from . import retail_sync_exception
from . import retail_throttle_bucket
