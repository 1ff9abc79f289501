from tests.access import Case
from tests.catalog.builders import make_item

# Catalogue items are shared by every pharmacy, so there is no "other organisation's item".
# The cases run with gas customers: for them the catalogue does not exist (404), which is
# the isolation these routes must keep.
CASES = {
    "catalog.show_item": Case(lambda o: {"item_id": make_item().id}, kind="gas"),
    "catalog.toggle_favourite": Case(lambda o: {"item_id": make_item().id}, kind="gas"),
}
