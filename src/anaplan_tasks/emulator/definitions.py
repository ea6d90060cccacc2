"""The emulator's definition format: users, workspaces and models with their structure and actions.

A definition is a JSON or TOML document. Its structure part (lists, modules, line items, actions)
is what ALM versions; data (list items, cells, file content) lives in the store.

```toml
[[users]]
email = "demo@example.com"
password = "demo"

[[workspaces]]
name = "Demo Workspace"
admins = ["demo@example.com"]

[[workspaces.models]]
name = "FP&A Dev"

[[workspaces.models.lists]]
name = "Regions"
top_level = "Total Region"
```

Loading validates everything and reports errors as `FILE: path[0].to.field: what is wrong`;
the format is documented in `docs/emulator-definitions.md`.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable
from datetime import date
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from .jsontext import MAX_JSON_DEPTH, JsonTooDeep, json_depth, load_json

Format = Literal["number", "text", "boolean", "date", "list"]
"""Formats of a list property or a module line item."""

TIME = "Time"
VERSIONS = "Versions"
LINE_ITEMS = "Line Items"
CALENDAR_DIMENSIONS = (TIME, VERSIONS)
"""Module dimensions that are not lists: the model's time scale (months) and its versions."""


class DefinitionError(ValueError):
    """A definition that cannot be loaded; the message names the file, the path and the problem."""

    def __init__(self, source: str, problems: list[str]):
        super().__init__(f"{source}: " + f"\n{source}: ".join(problems))
        self.source = source
        self.problems = problems


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class UserDef(_Strict):
    """A user who can sign in (Basic with the password, or a registered certificate)."""

    email: str
    password: str | None = None
    first_name: str = "Demo"
    last_name: str = "User"
    certificate_pem: str | None = Field(
        default=None, description="PEM certificate registered for CACertificate authentication."
    )
    cloudworks_role: Literal["integration_admin", "restricted_integration_user", "none"] | None = (
        Field(
            default=None,
            description=(
                "The user's CloudWorks tenant role. Default: integration_admin for an admin of "
                "any workspace, restricted_integration_user for another workspace member, none "
                "for a user in no workspace."
            ),
        )
    )


class OAuthClientDef(_Strict):
    """An OAuth 2.0 client, as a Tenant Security Administrator registers one (one grant each)."""

    name: str
    client_id: str = Field(pattern=r"^[0-9a-f]{32}$", description="32 lower-case hex digits.")
    grant: Literal["device_code", "authorization_code"]
    client_secret: str | None = Field(
        default=None, description="Authorization-code clients only (device clients have none)."
    )
    redirect_uris: list[str] = Field(
        default_factory=list,
        max_length=60,
        description="Allowed callback URLs, matched exactly (authorization-code clients).",
    )
    rotating: bool = Field(
        default=True, description="Each refresh returns a new refresh token; the old one dies."
    )
    refresh_token_lifetime: float | None = Field(
        default=None,
        gt=0,
        description="Seconds a refresh token lives (default 43,000 rotating, unlimited not).",
    )

    @model_validator(mode="after")
    def _fits_grant(self) -> OAuthClientDef:
        if self.grant == "authorization_code":
            if not self.client_secret:
                raise ValueError("an authorization_code client needs a client_secret")
            if not self.redirect_uris:
                raise ValueError("an authorization_code client needs redirect_uris")
        elif self.client_secret is not None:
            raise ValueError("a device_code client has no client_secret")
        return self


BucketType = Literal["AmazonS3", "AzureBlob", "GoogleBigQuery"]
"""The cloud storage a bucket stands in for (the CloudWorks connection types)."""


class BucketDef(_Strict):
    """A local directory standing in for a cloud bucket that CloudWorks connections reach.

    An `AmazonS3` bucket is found by its `name` (the connection's `bucketName`), an `AzureBlob`
    one by `account` and `name` (`storageAccountName`, `containerName`), a `GoogleBigQuery`
    dataset by `name` (`dataset`; a table is the file `<table>.csv` in the directory). A
    credential given here must be matched by the connection; one left out accepts any value.
    """

    name: str = Field(min_length=1, description="Bucket, container or dataset name.")
    path: str = Field(
        min_length=1,
        description="The directory (created when missing); relative to the emulator's directory.",
    )
    type: BucketType = "AmazonS3"
    account: str | None = Field(default=None, description="AzureBlob: the storage account name.")
    access_key_id: str | None = Field(default=None, description="AmazonS3: the accepted key id.")
    secret_access_key: str | None = Field(default=None, description="AmazonS3: its secret.")
    role_arn: str | None = Field(default=None, description="AmazonS3: the accepted role ARN.")
    sas_token: str | None = Field(default=None, description="AzureBlob: the accepted SAS token.")
    client_email: str | None = Field(
        default=None, description="GoogleBigQuery: the accepted service account's client email."
    )

    @model_validator(mode="after")
    def _fits_type(self) -> BucketDef:
        if self.type == "AzureBlob" and not self.account:
            raise ValueError("an AzureBlob bucket needs an account (storageAccountName)")
        if self.type != "AzureBlob" and self.account is not None:
            raise ValueError("only an AzureBlob bucket has an account")
        return self


class PropertyDef(_Strict):
    """A list property."""

    name: str
    format: Format = "text"
    list: str | None = Field(default=None, description="For format 'list': the list it refers to.")


class ListDef(_Strict):
    """A list: items identified by code (or name), optionally under a parent in another level."""

    name: str
    top_level: str | None = Field(default=None, description="Name of the top-level item, if any.")
    parent_list: str | None = Field(default=None, description="Items' parents live in this list.")
    properties: list[PropertyDef] = Field(default_factory=list)
    subsets: list[str] = Field(default_factory=list, description="Names of the list's subsets.")
    numbered: bool = Field(
        default=False, description="A numbered list: item names are generated (#1, #2, …)."
    )
    display_name_property: str | None = Field(
        default=None, description="A numbered list's property that views show as the name."
    )
    selective_access: bool = Field(
        default=False, description="Items are visible to the users their read/write name."
    )
    items: list[dict[str, Any]] = Field(
        default_factory=list,
        description=(
            "Initial items: {code, name, parent, <property>: value, subsets: [names], "
            "read: [emails], write: [emails]}."
        ),
    )


class LineItemDef(_Strict):
    """A module line item."""

    name: str
    format: Format = "number"
    list: str | None = Field(default=None, description="For format 'list': the list it refers to.")


class ViewDef(_Strict):
    """A saved view of a module: which dimensions sit on rows, columns and pages.

    Dimension names are the module's lists and `Line Items`; each appears on exactly one axis.
    """

    name: str
    rows: list[str] = Field(default_factory=list)
    columns: list[str] = Field(default_factory=list)
    pages: list[str] = Field(default_factory=list)


class LineItemSubsetDef(_Strict):
    """A line-item subset (`114…`): some of a module's line items, by name."""

    name: str
    line_items: list[str] = Field(min_length=1)


class ModuleDef(_Strict):
    """A module dimensioned by lists (and Time and Versions), with line items and saved views."""

    name: str
    dimensions: list[str] = Field(
        min_length=1, description="List names, `Time` and `Versions`, in order."
    )
    line_items: list[LineItemDef] = Field(min_length=1)
    views: list[ViewDef] = Field(default_factory=list)
    line_item_subsets: list[LineItemSubsetDef] = Field(default_factory=list)


class VersionDef(_Strict):
    """A version of the model (Anaplan's Versions dimension)."""

    name: str
    actual: bool = False
    current: bool = False
    switchover: str | None = Field(default=None, description="YYYY-MM-DD; forecast versions.")


def _default_versions() -> list[VersionDef]:
    return [VersionDef(name="Actual", actual=True, current=True), VersionDef(name="Forecast")]


class CalendarDef(_Strict):
    """The model calendar (Calendar Months/Quarters/Years) and its current period."""

    fiscal_year_start: str = Field(default="2025-01-01", description="First day, YYYY-MM-DD.")
    past_years: int = Field(default=1, ge=0, le=10)
    future_years: int = Field(default=1, ge=0, le=10)
    current_period: str | None = Field(
        default=None, description="A date in the current period (YYYY-MM-DD); none: blank."
    )


class FileDef(_Strict):
    """An import data source (a `113…` file)."""

    name: str
    separator: str = ","
    delimiter: str = '"'
    header_row: int = 1
    first_data_row: int = 2
    encoding: Literal["UTF-8", "ISO-8859-1", "UTF-16LE"] = "UTF-8"
    default_content: str | None = Field(
        default=None,
        description="Content served to users who uploaded none (Anaplan's default file).",
    )


class ImportDef(_Strict):
    """An import from a file into a list (HIERARCHY_DATA) or a module (MODULE_DATA).

    `mapping` maps a target (for a list: `code`, `name`, `parent` or a property name; for a module:
    a dimension list's name or a line item's name) to a source column header.
    """

    name: str
    file: str
    target_list: str | None = None
    target_module: str | None = None
    mapping: dict[str, str]

    @model_validator(mode="after")
    def _one_target(self) -> ImportDef:
        if (self.target_list is None) == (self.target_module is None):
            raise ValueError("give exactly one of target_list and target_module")
        return self


class ExportDef(_Strict):
    """An export of a list or a module to a file whose id equals the export's id."""

    name: str
    source_list: str | None = None
    source_module: str | None = None
    format: Literal["csv", "tsv"] = "csv"

    @model_validator(mode="after")
    def _one_source(self) -> ExportDef:
        if (self.source_list is None) == (self.source_module is None):
            raise ValueError("give exactly one of source_list and source_module")
        return self


class DeleteActionDef(_Strict):
    """Delete the items of a list selected by a boolean property (or a boolean line item)."""

    name: str
    list: str
    selector: str = Field(description="Boolean property of the list, or 'Module.Line Item'.")
    select_when: bool = Field(default=True, description="Delete items whose selector equals this.")


class OptimizerDef(_Strict):
    """An optimizer action (`117…`, `OPTIMIZER`): solves over a module's cells and logs it.

    The emulator's solver is a stand-in: its decision variables are the module's cells of the
    objective line item, and the objective value is their sum. It writes nothing back.
    """

    name: str
    module: str
    objective: str = Field(description="A number line item of the module.")
    sense: Literal["maximize", "minimize"] = "maximize"
    feasible: bool = Field(
        default=True, description="False: the solver finds no feasible solution (task fails)."
    )


class ProcessDef(_Strict):
    """A process: actions (by name) run in order."""

    name: str
    actions: list[str] = Field(min_length=1)


FULL_ACCESS = "Full Access"
"""The built-in model role of every member the model's `members` table does not name."""

NO_ACCESS = "No Access"
"""The built-in model role that hides the model's content (model-scoped calls answer 404)."""


class RoleDef(_Strict):
    """A model role: the actions its members may start and the files they may upload to."""

    name: str
    actions: list[str] = Field(
        default_factory=list,
        description="Imports, exports, delete actions and processes the role may start.",
    )
    files: list[str] = Field(
        default_factory=list,
        description="Files the role may upload to, besides those its imports read.",
    )


class ModelDef(_Strict):
    """A model: its structure and actions."""

    name: str
    lists: list[ListDef] = Field(default_factory=list)
    modules: list[ModuleDef] = Field(default_factory=list)
    files: list[FileDef] = Field(default_factory=list)
    imports: list[ImportDef] = Field(default_factory=list)
    exports: list[ExportDef] = Field(default_factory=list)
    delete_actions: list[DeleteActionDef] = Field(default_factory=list)
    optimizer_actions: list[OptimizerDef] = Field(default_factory=list)
    processes: list[ProcessDef] = Field(default_factory=list)
    versions: list[VersionDef] = Field(default_factory=_default_versions)
    calendar: CalendarDef = Field(default_factory=CalendarDef)
    origin: str | None = Field(
        default=None,
        description="Name of another model this one was copied from: they share an ALM origin.",
    )
    roles: list[RoleDef] = Field(default_factory=list)
    members: dict[str, str] = Field(
        default_factory=dict,
        description="Model role by member email: 'Full Access' (default), 'No Access' or a role.",
    )


class WorkspaceDef(_Strict):
    """A workspace, who may use it, and its models."""

    name: str
    admins: list[str] = Field(default_factory=list, description="Emails of workspace admins.")
    users: list[str] = Field(default_factory=list, description="Emails of other members.")
    models: list[ModelDef] = Field(default_factory=list)


class Definition(_Strict):
    """A whole definition document."""

    users: list[UserDef] = Field(default_factory=list)
    workspaces: list[WorkspaceDef] = Field(default_factory=list)
    oauth_clients: list[OAuthClientDef] = Field(default_factory=list)
    buckets: list[BucketDef] = Field(
        default_factory=list, description="Local directories standing in for cloud storage."
    )


def _path(loc: tuple[int | str, ...] | list[int | str]) -> str:
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text or "<root>"


def parse_definition(
    text: str, *, source: str = "<definition>", known_users: Iterable[str] = ()
) -> Definition:
    """Parse and validate a definition given as JSON or TOML text.

    Checks the schema, then every cross-reference (see `validate_references`). `known_users`
    are emails defined elsewhere (an earlier definition) that workspaces may grant access to.
    """
    stripped = text.lstrip()
    try:
        data: Any = load_json(text) if stripped.startswith("{") else tomllib.loads(text)
        if json_depth(data) > MAX_JSON_DEPTH:
            raise JsonTooDeep(f"nested more than {MAX_JSON_DEPTH} levels deep")
    except (ValueError, tomllib.TOMLDecodeError) as error:
        raise DefinitionError(source, [f"not valid JSON or TOML: {error}"]) from None
    except RecursionError:  # TOML nested a thousand levels down
        message = f"not valid JSON or TOML: nested more than {MAX_JSON_DEPTH} levels deep"
        raise DefinitionError(source, [message]) from None
    try:
        definition = Definition.model_validate(data)
    except ValidationError as error:
        problems = [f"{_path(issue['loc'])}: {issue['msg']}" for issue in error.errors()]
        raise DefinitionError(source, problems) from None
    validate_references(definition, source=source, known_users=known_users)
    return definition


def load_definition(path: str | Path, *, known_users: Iterable[str] = ()) -> Definition:
    """Read and validate a definition file (`.json` or `.toml`)."""
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise DefinitionError(str(file), [f"cannot be read: {error}"]) from None
    return parse_definition(text, source=str(file), known_users=known_users)


def validate_references(
    definition: Definition, *, source: str = "<definition>", known_users: Iterable[str] = ()
) -> None:
    """Check every name a definition refers to; raise one `DefinitionError` listing all problems.

    Checked: duplicate names (users, workspaces, models in a workspace, and lists, modules,
    files and actions in a model; imports, exports and delete actions share one namespace
    because processes name them), and references to unknown users, lists, modules, line items,
    properties, files, actions and origin models, plus file layouts that cannot be read.
    """
    problems: list[str] = []
    defined: set[str] = set()
    for index, user in enumerate(definition.users):
        if user.email.lower() in defined:
            problems.append(f"users[{index}].email: duplicate user {user.email!r}")
        defined.add(user.email.lower())
    emails = defined | {email.lower() for email in known_users}
    client_ids = [client.client_id for client in definition.oauth_clients]
    for index, client_id in enumerate(client_ids):
        if client_id in client_ids[:index]:
            problems.append(f"oauth_clients[{index}].client_id: duplicate client {client_id!r}")
    _duplicates(problems, "workspaces", [w.name for w in definition.workspaces], "workspace")
    bucket_keys = [(b.type, b.account, b.name) for b in definition.buckets]
    for index, key in enumerate(bucket_keys):
        if key in bucket_keys[:index]:
            problems.append(f"buckets[{index}].name: duplicate bucket {key[2]!r}")
    model_names = {m.name for w in definition.workspaces for m in w.models}
    for w_index, workspace in enumerate(definition.workspaces):
        here = f"workspaces[{w_index}]"
        for field_name in ("admins", "users"):
            for index, email in enumerate(getattr(workspace, field_name)):
                if email.lower() not in emails:
                    problems.append(f"{here}.{field_name}[{index}]: unknown user {email!r}")
        _duplicates(problems, f"{here}.models", [m.name for m in workspace.models], "model")
        for m_index, model in enumerate(workspace.models):
            path = f"{here}.models[{m_index}]"
            if model.origin is not None and (
                model.origin == model.name or model.origin not in model_names
            ):
                problems.append(f"{path}.origin: unknown model {model.origin!r}")
            problems.extend(_model_problems(model, path))
            problems.extend(_role_problems(model, workspace, path))
    if problems:
        raise DefinitionError(source, problems)


def _is_date(text: str) -> bool:
    try:
        date.fromisoformat(text)
    except ValueError:
        return False
    return len(text) == 10


def _role_problems(model: ModelDef, workspace: WorkspaceDef, path: str) -> list[str]:
    problems: list[str] = []
    _duplicates(problems, f"{path}.roles", [r.name for r in model.roles], "role")
    actions = {
        a.name
        for group in (model.imports, model.exports, model.delete_actions, model.optimizer_actions)
        for a in group
    } | {p.name for p in model.processes}
    files = {f.name for f in model.files}
    for r_index, role in enumerate(model.roles):
        where = f"{path}.roles[{r_index}]"
        if role.name in (FULL_ACCESS, NO_ACCESS):
            problems.append(f"{where}.name: {role.name!r} is a built-in role")
        for index, action in enumerate(role.actions):
            if action not in actions:
                problems.append(f"{where}.actions[{index}]: unknown action {action!r}")
        for index, file in enumerate(role.files):
            if file not in files:
                problems.append(f"{where}.files[{index}]: unknown file {file!r}")
    roles = {r.name for r in model.roles} | {FULL_ACCESS, NO_ACCESS}
    members = {email.lower() for email in (*workspace.admins, *workspace.users)}
    for email, role_name in model.members.items():
        if email.lower() not in members:
            problems.append(f"{path}.members.{email}: not a member of the workspace")
        if role_name not in roles:
            problems.append(f"{path}.members.{email}: unknown role {role_name!r}")
    return problems


def _names(value: Any) -> list[str]:
    """The names an item's `subsets` gives (a list of names; anything else: none)."""
    return [str(name) for name in value] if isinstance(value, list) else [str(value)]


def _duplicates(problems: list[str], path: str, names: list[str], what: str) -> None:
    seen: set[str] = set()
    for index, name in enumerate(names):
        if name in seen:
            problems.append(f"{path}[{index}].name: duplicate {what} name {name!r}")
        seen.add(name)


def _model_problems(model: ModelDef, path: str) -> list[str]:
    problems: list[str] = []
    lists = {lst.name: lst for lst in model.lists}
    modules = {module.name: module for module in model.modules}
    files = {f.name for f in model.files}
    _duplicates(problems, f"{path}.lists", [lst.name for lst in model.lists], "list")
    _duplicates(problems, f"{path}.modules", [m.name for m in model.modules], "module")
    _duplicates(problems, f"{path}.files", [f.name for f in model.files], "file")
    _duplicates(problems, f"{path}.processes", [p.name for p in model.processes], "process")
    seen_actions: set[str] = set()
    groups: list[tuple[str, list[str]]] = [
        ("imports", [i.name for i in model.imports]),
        ("exports", [e.name for e in model.exports]),
        ("delete_actions", [a.name for a in model.delete_actions]),
        ("optimizer_actions", [a.name for a in model.optimizer_actions]),
    ]
    for group, names in groups:
        for index, action_name in enumerate(names):
            if action_name in seen_actions:
                problems.append(
                    f"{path}.{group}[{index}].name: duplicate action name {action_name!r} "
                    "(imports, exports, delete and optimizer actions share one namespace)"
                )
            seen_actions.add(action_name)

    def check_format(where: str, fmt: Format, list_name: str | None) -> None:
        if fmt == "list" and list_name is None:
            problems.append(f"{where}.list: format 'list' needs the name of a list")
        elif fmt != "list" and list_name is not None:
            problems.append(f"{where}.list: only format 'list' refers to a list")
        elif list_name is not None and list_name not in lists:
            problems.append(f"{where}.list: unknown list {list_name!r}")

    for l_index, lst in enumerate(model.lists):
        where = f"{path}.lists[{l_index}]"
        if lst.name in (*CALENDAR_DIMENSIONS, LINE_ITEMS):
            problems.append(f"{where}.name: {lst.name!r} is reserved for a built-in dimension")
        if lst.parent_list is not None and lst.parent_list not in lists:
            problems.append(f"{where}.parent_list: unknown list {lst.parent_list!r}")
        if lst.parent_list == lst.name:
            problems.append(f"{where}.parent_list: a list cannot be its own parent list")
        _duplicates(problems, f"{where}.properties", [p.name for p in lst.properties], "property")
        for p_index, prop in enumerate(lst.properties):
            if prop.name in ("code", "name", "parent"):
                problems.append(
                    f"{where}.properties[{p_index}].name: {prop.name!r} is reserved for the "
                    "item's own field"
                )
            check_format(f"{where}.properties[{p_index}]", prop.format, prop.list)
        _duplicates(problems, f"{where}.subsets", list(lst.subsets), "subset")
        for s_index, subset in enumerate(lst.subsets):
            if subset in {p.name for p in lst.properties}:
                problems.append(f"{where}.subsets[{s_index}]: {subset!r} is also a property")
        if lst.display_name_property is not None:
            if not lst.numbered:
                problems.append(f"{where}.display_name_property: only numbered lists have one")
            elif lst.display_name_property not in {p.name for p in lst.properties}:
                problems.append(
                    f"{where}.display_name_property: unknown property {lst.display_name_property!r}"
                )
        codes: set[str] = set()
        for i_index, initial in enumerate(lst.items):
            key = initial.get("code", initial.get("name"))
            if key is None:
                problems.append(f"{where}.items[{i_index}]: an item needs a code or a name")
            elif str(key) in codes:
                problems.append(f"{where}.items[{i_index}].code: duplicate code {key!r}")
            else:
                codes.add(str(key))
            if lst.numbered and "name" in initial:
                problems.append(
                    f"{where}.items[{i_index}].name: a numbered list's names are generated"
                )
            known = {"code", "name", "parent", "subsets"} | {p.name for p in lst.properties}
            if lst.selective_access:
                known |= {"read", "write"}
            for key_name in initial:
                if key_name not in known:
                    problems.append(f"{where}.items[{i_index}].{key_name}: unknown property")
            for s_name in _names(initial.get("subsets", [])):
                if s_name not in lst.subsets:
                    problems.append(f"{where}.items[{i_index}].subsets: unknown subset {s_name!r}")
            for field_name in ("read", "write"):
                if not isinstance(initial.get(field_name, []), list):
                    problems.append(f"{where}.items[{i_index}].{field_name}: a list of emails")
    for m_index, module in enumerate(model.modules):
        where = f"{path}.modules[{m_index}]"
        for d_index, dimension in enumerate(module.dimensions):
            if dimension not in lists and dimension not in CALENDAR_DIMENSIONS:
                problems.append(f"{where}.dimensions[{d_index}]: unknown list {dimension!r}")
        if len(set(module.dimensions)) != len(module.dimensions):
            problems.append(f"{where}.dimensions: a dimension appears twice")
        _duplicates(
            problems, f"{where}.line_items", [li.name for li in module.line_items], "line item"
        )
        for li_index, line_item in enumerate(module.line_items):
            if line_item.name in module.dimensions:
                problems.append(
                    f"{where}.line_items[{li_index}].name: {line_item.name!r} is also a dimension"
                )
            check_format(f"{where}.line_items[{li_index}]", line_item.format, line_item.list)
    for m_index, module in enumerate(model.modules):
        where = f"{path}.modules[{m_index}]"
        _duplicates(
            problems,
            f"{where}.line_item_subsets",
            [li_subset.name for li_subset in module.line_item_subsets],
            "line-item subset",
        )
        line_item_names = {li.name for li in module.line_items}
        for s_index, li_subset in enumerate(module.line_item_subsets):
            for li_index, name in enumerate(li_subset.line_items):
                if name not in line_item_names:
                    problems.append(
                        f"{where}.line_item_subsets[{s_index}].line_items[{li_index}]: "
                        f"unknown line item {name!r}"
                    )
    for m_index, module in enumerate(model.modules):
        where = f"{path}.modules[{m_index}]"
        _duplicates(problems, f"{where}.views", [v.name for v in module.views], "view")
        axes_allowed = {*module.dimensions, LINE_ITEMS}
        for v_index, view in enumerate(module.views):
            placed = [*view.rows, *view.columns, *view.pages]
            for name in placed:
                if name not in axes_allowed:
                    problems.append(
                        f"{where}.views[{v_index}]: {name!r} is not a dimension of the module "
                        "(its dimensions or 'Line Items')"
                    )
            if sorted(placed) != sorted(axes_allowed):
                problems.append(
                    f"{where}.views[{v_index}]: put each of {sorted(axes_allowed)} on exactly one "
                    "axis"
                )
    _duplicates(problems, f"{path}.versions", [v.name for v in model.versions], "version")
    if sum(v.actual for v in model.versions) > 1:
        problems.append(f"{path}.versions: at most one version is the actual version")
    for name, value in (
        ("fiscal_year_start", model.calendar.fiscal_year_start),
        ("current_period", model.calendar.current_period),
    ):
        if value is not None and not _is_date(value):
            problems.append(f"{path}.calendar.{name}: {value!r} is not a YYYY-MM-DD date")
    for f_index, file in enumerate(model.files):
        where = f"{path}.files[{f_index}]"
        if len(file.separator) != 1:
            problems.append(f"{where}.separator: must be one character, got {file.separator!r}")
        if len(file.delimiter) > 1:
            problems.append(f"{where}.delimiter: must be one character or empty")
        if file.delimiter and file.delimiter == file.separator:
            problems.append(f"{where}.delimiter: must differ from the separator")
        if file.header_row < 0:
            problems.append(f"{where}.header_row: must be 0 (no header) or a row number")
        if file.first_data_row < 1 or file.first_data_row <= file.header_row:
            problems.append(f"{where}.first_data_row: must come after the header row")
    for i_index, imp in enumerate(model.imports):
        where = f"{path}.imports[{i_index}]"
        if imp.file not in files:
            problems.append(f"{where}.file: unknown file {imp.file!r}")
        if imp.target_list is not None:
            target = lists.get(imp.target_list)
            if target is None:
                problems.append(f"{where}.target_list: unknown list {imp.target_list!r}")
            else:
                allowed = {"code", "name", "parent"} | {p.name for p in target.properties}
                for key in imp.mapping:
                    if key not in allowed:
                        problems.append(
                            f"{where}.mapping.{key}: list {target.name!r} has no property {key!r}"
                            " (targets: code, name, parent or a property)"
                        )
                if "code" not in imp.mapping and "name" not in imp.mapping:
                    problems.append(f"{where}.mapping: map 'code' or 'name' to a column")
        if imp.target_module is not None:
            target_module = modules.get(imp.target_module)
            if target_module is None:
                problems.append(f"{where}.target_module: unknown module {imp.target_module!r}")
            else:
                line_items = {li.name for li in target_module.line_items}
                for key in imp.mapping:
                    if key not in line_items and key not in target_module.dimensions:
                        problems.append(
                            f"{where}.mapping.{key}: module {target_module.name!r} has no "
                            "dimension or "
                            f"line item {key!r}"
                        )
                if not any(key in line_items for key in imp.mapping):
                    problems.append(f"{where}.mapping: map at least one line item")
        for key, column in imp.mapping.items():
            if not column:
                problems.append(f"{where}.mapping.{key}: the source column name is empty")
    for e_index, export in enumerate(model.exports):
        where = f"{path}.exports[{e_index}]"
        if export.source_list is not None and export.source_list not in lists:
            problems.append(f"{where}.source_list: unknown list {export.source_list!r}")
        if export.source_module is not None and export.source_module not in modules:
            problems.append(f"{where}.source_module: unknown module {export.source_module!r}")
    for a_index, action in enumerate(model.delete_actions):
        where = f"{path}.delete_actions[{a_index}]"
        target = lists.get(action.list)
        if target is None:
            problems.append(f"{where}.list: unknown list {action.list!r}")
            continue
        selected_by = next((p for p in target.properties if p.name == action.selector), None)
        if selected_by is not None:
            if selected_by.format != "boolean":
                problems.append(f"{where}.selector: property {selected_by.name!r} is not boolean")
            continue
        module_name, dot, line_item_name = action.selector.partition(".")
        selector_module = modules.get(module_name) if dot else None
        if selector_module is None:
            problems.append(
                f"{where}.selector: {action.selector!r} is neither a boolean property of "
                f"{target.name!r} nor 'Module.Line Item'"
            )
            continue
        if target.name not in selector_module.dimensions:
            problems.append(
                f"{where}.selector: module {selector_module.name!r} is not by {target.name!r}"
            )
        flag = next((li for li in selector_module.line_items if li.name == line_item_name), None)
        if flag is None:
            problems.append(
                f"{where}.selector: module {selector_module.name!r} has no line item "
                f"{line_item_name!r}"
            )
        elif flag.format != "boolean":
            problems.append(f"{where}.selector: line item {line_item_name!r} is not boolean")
    for o_index, optimizer in enumerate(model.optimizer_actions):
        where = f"{path}.optimizer_actions[{o_index}]"
        solved = modules.get(optimizer.module)
        if solved is None:
            problems.append(f"{where}.module: unknown module {optimizer.module!r}")
            continue
        objective = next((li for li in solved.line_items if li.name == optimizer.objective), None)
        if objective is None:
            problems.append(
                f"{where}.objective: module {solved.name!r} has no line item "
                f"{optimizer.objective!r}"
            )
        elif objective.format != "number":
            problems.append(f"{where}.objective: line item {objective.name!r} is not a number")
    for p_index, process in enumerate(model.processes):
        for s_index, step in enumerate(process.actions):
            if step not in seen_actions:
                problems.append(
                    f"{path}.processes[{p_index}].actions[{s_index}]: unknown action {step!r}"
                )
    return problems
