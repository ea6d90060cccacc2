"""Model roles: what a workspace member may do in one model, decided from the definition.

Anaplan checks roles per model: a workspace administrator may do everything; anyone else has one
model role, which grants access to named actions. The emulator's reading of it:

- `Full Access` (the role of a member the model's `members` table does not name): every action,
  every file, creating files.
- `No Access`: the model is listed (`GET /models`, `GET /models/{id}`) but every model-scoped call
  answers 404, as Anaplan masks it.
- A role defined in the model's `roles`: starting the imports, exports, delete actions and
  processes it names; uploading to the files those imports read and to the files it names. A
  role that names nothing only views.

Creating a file (a `POST …/files/{name}` that is no file yet) needs Full Access; cancelling
another user's task needs a workspace administrator. Refusals answer 403 with Anaplan's error
envelope.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..definitions import FULL_ACCESS, NO_ACCESS, ModelDef


@dataclass(frozen=True)
class Access:
    """One member's rights in one model."""

    role: str
    admin: bool = False
    actions: frozenset[str] | None = None
    """Names of the actions the role may start; None: every action."""
    files: frozenset[str] | None = None
    """Names of the files the role may upload to; None: every file."""

    @property
    def visible(self) -> bool:
        """Whether model-scoped calls are allowed at all (No Access: 404)."""
        return self.admin or self.role != NO_ACCESS

    @property
    def full(self) -> bool:
        """Admin or Full Access: everything in the model."""
        return self.admin or self.actions is None

    def may_run(self, action_name: str) -> bool:
        """Whether the member may start this import, export, delete action or process."""
        return self.full or (self.actions is not None and action_name in self.actions)

    def may_upload(self, file_name: str) -> bool:
        """Whether the member may upload to (or delete their content of) this file."""
        return self.full or (self.files is not None and file_name in self.files)

    @property
    def may_create_files(self) -> bool:
        """Whether the member may create a new file by uploading to a new name."""
        return self.full

    @property
    def may_cancel_others(self) -> bool:
        """Whether the member may cancel tasks other users started."""
        return self.admin


def access_of(structure: ModelDef, email: str, *, admin: bool) -> Access:
    """The rights of a workspace member (`admin`: a workspace administrator) in a model."""
    if admin:
        return Access(role="Workspace Administrator", admin=True)
    members = {member.lower(): role for member, role in structure.members.items()}
    role_name = members.get(email.lower(), FULL_ACCESS)
    if role_name == FULL_ACCESS:
        return Access(role=FULL_ACCESS)
    role = next((r for r in structure.roles if r.name == role_name), None)
    if role_name == NO_ACCESS or role is None:
        # A role a structure change (an ALM sync) removed leaves its members with No Access.
        return Access(role=NO_ACCESS, actions=frozenset(), files=frozenset())
    actions = frozenset(role.actions)
    files = set(role.files)
    for definition in structure.imports:
        if definition.name in actions:
            files.add(definition.file)
    for process in structure.processes:
        if process.name in actions:
            for step in structure.imports:
                if step.name in process.actions:
                    files.add(step.file)
    return Access(role=role_name, actions=actions, files=frozenset(files))
