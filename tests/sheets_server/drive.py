"""Drive v3 ``files``: create, get (``fields`` masks: the version the backend checks)
and delete."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .errors import ApiError
from .masks import apply_mask, parse_mask

if TYPE_CHECKING:
    from .server import SheetsServer


def files(
    server: SheetsServer, method: str, path: str, query: dict[str, list[str]], data: Any, who: str
) -> tuple[int, Any]:
    rest = path[len("/drive/v3/files") :].strip("/")
    if not rest and method == "POST":
        ss = server.new_spreadsheet(data.get("name", "Untitled spreadsheet"))
        return 200, {
            "kind": "drive#file",
            "id": ss.spreadsheet_id,
            "name": ss.title,
            "mimeType": "application/vnd.google-apps.spreadsheet",
        }
    ss_opt = server.files.get(rest)
    if ss_opt is None or (ss_opt.shared_with is not None and who not in ss_opt.shared_with):
        raise ApiError(
            404,
            f"File not found: {rest}.",
        )
    if method == "DELETE":
        del server.files[rest]
        return 204, None
    if method != "GET":
        raise ApiError(404, "Not found")
    meta = {
        "kind": "drive#file",
        "id": ss_opt.spreadsheet_id,
        "name": ss_opt.title,
        "mimeType": "application/vnd.google-apps.spreadsheet",
        "createdTime": ss_opt.created,
        "modifiedTime": ss_opt.modified,
        "version": str(ss_opt.version),
    }
    fields = query.get("fields", ["kind,id,name,mimeType"])[0]
    return 200, apply_mask(meta, parse_mask(fields))
