"""Delete actions (`DELETE_BY_SELECTION`): remove the list items a boolean selects.

The selector is a boolean property of the list, or `Module.Line Item` naming a boolean line item
of a module dimensioned by the list (the item is selected when its cell holds the value). Cells of
every module dimensioned by the list are removed with the items.
"""

from __future__ import annotations

from ...models import TaskResult
from ..definitions import DeleteActionDef
from . import results
from .context import ActionContext, ActionOutcome


def run_delete(ctx: ActionContext, action_id: str, definition: DeleteActionDef) -> ActionOutcome:
    """Run one delete action inside the task's transaction."""
    ctx.tick(0.0, "Selecting items")
    lst = ctx.catalog.list_def(definition.list)
    if lst is None:
        return ActionOutcome(
            result=results.failed_to_run(
                action_id, "deleteFromSelectionFailed", f"List {definition.list} not found."
            ),
            ran=False,
        )
    selector = definition.selector
    if any(p.name == selector for p in lst.properties):
        codes = ctx.txn.items_where(lst.name, selector, definition.select_when)
    else:
        module_name, _, line_item = selector.partition(".")
        module = ctx.catalog.module_def(module_name)
        if module is None or lst.name not in module.dimensions:
            return ActionOutcome(
                result=results.failed_to_run(
                    action_id, "deleteFromSelectionFailed", f"Selector {selector} not found."
                ),
                ran=False,
            )
        position = module.dimensions.index(lst.name)
        keys = ctx.txn.cells_where(module_name, line_item, definition.select_when)
        codes = list(dict.fromkeys(key[position] for key in keys if position < len(key)))
    ctx.check_cancel()
    deleted = ctx.txn.delete_items(lst.name, codes, ctx.catalog.modules_by_list(lst.name))
    ctx.tick(1.0, "Deleted")
    detail = results.detail(
        "deleteFromSelectionSucceeded",
        f"{deleted} items were deleted from the list {lst.name} using {selector}",
        [("affectedItems", deleted), ("targetName", lst.name), ("filterName", selector)],
    )
    return ActionOutcome(
        result=TaskResult.build(
            successful=True, failure_dump_available=False, object_id=action_id, details=[detail]
        )
    )
