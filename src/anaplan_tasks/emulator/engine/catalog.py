"""A model's structure with its object ids: lookups by id and by name, and the catalogue's wire
models (files, imports, exports, actions, processes and their metadata)."""

from __future__ import annotations

from collections.abc import Sequence

from ...models import (
    ExportAction,
    ExportMetadata,
    FileInfo,
    ImportAction,
    ImportMetadata,
    ImportSource,
    ModelAction,
    Process,
    ProcessAction,
    ProcessMetadata,
)
from ..definitions import (
    DeleteActionDef,
    ExportDef,
    FileDef,
    ImportDef,
    ListDef,
    ModelDef,
    ModuleDef,
    OptimizerDef,
    ProcessDef,
)
from ..storage import ObjectKind

ActionDef = ImportDef | ExportDef | DeleteActionDef | OptimizerDef | ProcessDef
_Named = FileDef | ImportDef | ExportDef | DeleteActionDef | OptimizerDef | ProcessDef

EXPORT_LAYOUT = "TABULAR_MULTI_COLUMN"
_DATA_TYPES = {
    "number": "NUMBER",
    "text": "TEXT",
    "boolean": "BOOLEAN",
    "date": "DATE",
    "list": "ENTITY",
}


def wanted_object_ids(structure: ModelDef) -> list[tuple[ObjectKind, str]]:
    """Every (kind, name) of a structure that needs a numeric id, in definition order."""
    wanted: list[tuple[ObjectKind, str]] = [("file", f.name) for f in structure.files]
    wanted += [("import", i.name) for i in structure.imports]
    wanted += [("export", e.name) for e in structure.exports]
    wanted += [("action", a.name) for a in structure.delete_actions]
    wanted += [("action", a.name) for a in structure.optimizer_actions]
    wanted += [("process", p.name) for p in structure.processes]
    wanted += [("list", lst.name) for lst in structure.lists]
    wanted += [("module", m.name) for m in structure.modules]
    wanted += [
        ("line_item", member_key(m.name, li.name)) for m in structure.modules for li in m.line_items
    ]
    wanted += [("view", member_key(m.name, v.name)) for m in structure.modules for v in m.views]
    wanted += [("version", v.name) for v in structure.versions]
    wanted += [("subset", member_key(lst.name, s)) for lst in structure.lists for s in lst.subsets]
    wanted += [
        ("line_item_subset", member_key(m.name, s.name))
        for m in structure.modules
        for s in m.line_item_subsets
    ]
    return wanted


def member_key(module: str, member: str) -> str:
    """The id key of a line item or saved view: its module's name and its own."""
    return f"{module}\x1f{member}"


def structure_of(model: ModelDef) -> ModelDef:
    """A model definition without its initial data (list items, default file content): what
    ALM versions."""
    lists = [lst.model_copy(update={"items": []}) for lst in model.lists]
    files = [f.model_copy(update={"default_content": None}) for f in model.files]
    return model.model_copy(update={"lists": lists, "files": files})


class ModelCatalog:
    """One version of a model's structure, indexed."""

    def __init__(self, structure: ModelDef, version: int, ids: dict[tuple[ObjectKind, str], str]):
        self.structure = structure
        self.version = version
        self.ids = ids
        self._index: dict[str, tuple[ObjectKind, object]] = {}
        groups: list[tuple[ObjectKind, Sequence[_Named]]] = [
            ("file", structure.files),
            ("import", structure.imports),
            ("export", structure.exports),
            ("action", structure.delete_actions),
            ("action", structure.optimizer_actions),
            ("process", structure.processes),
        ]
        for kind, items in groups:
            for item in items:
                object_id = ids.get((kind, item.name))
                if object_id is not None:
                    self._index[object_id] = (kind, item)

    # -- lookups -----------------------------------------------------------------------------
    def id_of(self, kind: ObjectKind, name: str) -> str:
        """The id of an object by kind and name."""
        return self.ids[(kind, name)]

    def _lookup(self, object_id: str, kind: ObjectKind) -> object | None:
        found = self._index.get(object_id)
        return found[1] if found is not None and found[0] == kind else None

    def file(self, file_id: str) -> FileDef | None:
        """An import data source by id."""
        found = self._lookup(file_id, "file")
        return found if isinstance(found, FileDef) else None

    def file_named(self, name: str) -> FileDef | None:
        """An import data source by name."""
        return next((f for f in self.structure.files if f.name == name), None)

    def import_(self, import_id: str) -> ImportDef | None:
        """An import by id."""
        found = self._lookup(import_id, "import")
        return found if isinstance(found, ImportDef) else None

    def export(self, export_id: str) -> ExportDef | None:
        """An export (and its output file) by id."""
        found = self._lookup(export_id, "export")
        return found if isinstance(found, ExportDef) else None

    def delete_action(self, action_id: str) -> DeleteActionDef | None:
        """A delete action by id."""
        found = self._lookup(action_id, "action")
        return found if isinstance(found, DeleteActionDef) else None

    def optimizer(self, action_id: str) -> OptimizerDef | None:
        """An optimizer action by id."""
        found = self._lookup(action_id, "action")
        return found if isinstance(found, OptimizerDef) else None

    def process(self, process_id: str) -> ProcessDef | None:
        """A process by id."""
        found = self._lookup(process_id, "process")
        return found if isinstance(found, ProcessDef) else None

    def action_named(self, name: str) -> tuple[str, ActionDef] | None:
        """A process step by name: (id, definition)."""
        steps: list[tuple[ObjectKind, Sequence[ActionDef]]] = [
            ("import", self.structure.imports),
            ("export", self.structure.exports),
            ("action", self.structure.delete_actions),
            ("action", self.structure.optimizer_actions),
        ]
        for kind, items in steps:
            for item in items:
                if item.name == name:
                    return self.ids[(kind, item.name)], item
        return None

    def list_def(self, name: str) -> ListDef | None:
        """A list by name."""
        return next((lst for lst in self.structure.lists if lst.name == name), None)

    def module_def(self, name: str) -> ModuleDef | None:
        """A module by name."""
        return next((m for m in self.structure.modules if m.name == name), None)

    def modules_by_list(self, list_name: str) -> list[tuple[str, int]]:
        """Modules dimensioned by a list, with the dimension's position."""
        return [
            (module.name, position)
            for module in self.structure.modules
            for position, dimension in enumerate(module.dimensions)
            if dimension == list_name
        ]

    # -- wire models -------------------------------------------------------------------------
    def file_infos(self, chunk_counts: dict[str, int]) -> list[FileInfo]:
        """Import files then export output files, with the caller's chunk counts."""
        infos = [
            FileInfo(
                id=self.id_of("file", f.name),
                name=f.name,
                chunk_count=chunk_counts.get(self.id_of("file", f.name), 0),
                delimiter=f.delimiter,
                encoding=f.encoding,
                first_data_row=f.first_data_row,
                format="txt",
                header_row=f.header_row,
                separator=f.separator,
            )
            for f in self.structure.files
        ]
        infos += [self.export_file_info(e, chunk_counts) for e in self.structure.exports]
        return infos

    def file_info(self, file_id: str, chunk_count: int) -> FileInfo | None:
        """One file's listing entry."""
        source = self.file(file_id)
        if source is not None:
            return FileInfo(
                id=file_id,
                name=source.name,
                chunk_count=chunk_count,
                delimiter=source.delimiter,
                encoding=source.encoding,
                first_data_row=source.first_data_row,
                format="txt",
                header_row=source.header_row,
                separator=source.separator,
            )
        export = self.export(file_id)
        if export is not None:
            return self.export_file_info(export, {file_id: chunk_count})
        return None

    def export_file_info(self, export: ExportDef, chunk_counts: dict[str, int]) -> FileInfo:
        """An export's output file (id == export id)."""
        export_id = self.id_of("export", export.name)
        return FileInfo(
            id=export_id,
            name=export.name,
            chunk_count=chunk_counts.get(export_id, 0),
            first_data_row=0,
            header_row=0,
        )

    def import_actions(self) -> list[ImportAction]:
        """Every import, in definition order."""
        return [self.import_action(i) for i in self.structure.imports]

    def import_action(self, definition: ImportDef) -> ImportAction:
        """One import's listing entry."""
        return ImportAction(
            id=self.id_of("import", definition.name),
            name=definition.name,
            import_data_source_id=self.id_of("file", definition.file),
            import_type="HIERARCHY_DATA" if definition.target_list else "MODULE_DATA",
        )

    def import_metadata(self, definition: ImportDef) -> ImportMetadata:
        """One import's metadata: the source file's layout and the mapped columns."""
        source = self.file_named(definition.file)
        headers = list(dict.fromkeys(definition.mapping.values()))
        return ImportMetadata(
            name=definition.name,
            type="FILE",
            source=ImportSource(
                text_encoding=source.encoding if source else "UTF-8",
                column_separator=source.separator if source else ",",
                text_delimiter=source.delimiter if source else '"',
                header_row=source.header_row if source else 1,
                first_data_row=source.first_data_row if source else 2,
                decimal_separator=".",
                header_names=headers,
                column_count=len(headers),
            ),
        )

    def export_actions(self) -> list[ExportAction]:
        """Every export, in definition order."""
        return [
            ExportAction(
                id=self.id_of("export", e.name),
                name=e.name,
                export_type=EXPORT_LAYOUT,
                export_format=_mime(e),
                encoding="UTF-8",
                layout=EXPORT_LAYOUT,
            )
            for e in self.structure.exports
        ]

    def export_columns(self, export: ExportDef) -> list[tuple[str, str, str]]:
        """(header, data type, list name or "") of each column an export writes."""
        if export.source_list is not None:
            lst = self.list_def(export.source_list)
            columns = [
                ("Code", "TEXT", ""),
                ("Name", "ENTITY", export.source_list),
                ("Parent", "ENTITY", lst.parent_list or export.source_list if lst else ""),
            ]
            for prop in lst.properties if lst else []:
                columns.append((prop.name, _DATA_TYPES[prop.format], prop.list or ""))
            return columns
        module = self.module_def(export.source_module or "")
        if module is None:
            return []
        columns = [(dimension, "ENTITY", dimension) for dimension in module.dimensions]
        columns += [(li.name, _DATA_TYPES[li.format], li.list or "") for li in module.line_items]
        return columns

    def export_metadata(self, export: ExportDef, row_count: int) -> ExportMetadata:
        """One export's metadata."""
        columns = self.export_columns(export)
        return ExportMetadata(
            column_count=len(columns),
            data_types=[data_type for _, data_type, _ in columns],
            delimiter='"',
            encoding="UTF-8",
            export_format=_mime(export),
            header_names=[header for header, _, _ in columns],
            list_names=[list_name for _, _, list_name in columns],
            row_count=row_count,
            separator="\t" if export.format == "tsv" else ",",
            layout=EXPORT_LAYOUT,
        )

    def model_actions(self) -> list[ModelAction]:
        """Every delete action, then every optimizer action, in definition order."""
        return [
            ModelAction(
                id=self.id_of("action", a.name), name=a.name, action_type="DELETE_BY_SELECTION"
            )
            for a in self.structure.delete_actions
        ] + [
            ModelAction(id=self.id_of("action", a.name), name=a.name, action_type="OPTIMIZER")
            for a in self.structure.optimizer_actions
        ]

    def process_entries(self) -> list[Process]:
        """Every process, in definition order."""
        return [
            Process(id=self.id_of("process", p.name), name=p.name) for p in self.structure.processes
        ]

    def process_metadata(self, process: ProcessDef) -> ProcessMetadata:
        """A process and its actions in execution order."""
        actions: list[ProcessAction] = []
        for name in process.actions:
            found = self.action_named(name)
            if found is None:
                continue
            action_id, definition = found
            if isinstance(definition, ImportDef):
                actions.append(
                    ProcessAction(
                        id=action_id,
                        name=name,
                        action_type="IMPORT",
                        import_data_source_id=self.id_of("file", definition.file),
                        import_type="HIERARCHY_DATA" if definition.target_list else "MODULE_DATA",
                    )
                )
            elif isinstance(definition, ExportDef):
                actions.append(
                    ProcessAction(
                        id=action_id, name=name, action_type="EXPORT", export_type=EXPORT_LAYOUT
                    )
                )
            else:
                kind = (
                    "OPTIMIZER" if isinstance(definition, OptimizerDef) else "DELETE_BY_SELECTION"
                )
                actions.append(ProcessAction(id=action_id, name=name, action_type=kind))
        return ProcessMetadata(name=process.name, actions=actions)


def _mime(export: ExportDef) -> str:
    return "text/tab-separated-values" if export.format == "tsv" else "text/csv"
