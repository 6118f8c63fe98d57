from . import test_lib
from . import test_contract
