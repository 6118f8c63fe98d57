from . import test_webhook
from . import test_jobs
from . import test_binding_concurrency
from . import test_security
from . import test_governance
from . import test_privacy
from . import test_retention
from . import test_production_db
