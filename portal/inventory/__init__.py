"""Inventory: warehouses, the stock and batches they hold, reserving stock for an order, the
one rule for which warehouse serves an organisation, and delivery dates.

It knows catalogue items only by their id (the tables keep their `catalog_` names) and imports
nothing from the catalogue, orders or billing: those use it. A bulk stock move tells whoever
listens (`stock.on_stock_moved`): the catalogue bumps the items' `updated_at` for the API's
delta sync.
"""
