"""Uploads (raw body → token), attachments, and the attachment content URLs the emulator serves."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

import flask

from hub.sandbox.zendesk.comments import present_attachment
from hub.sandbox.zendesk.errors import ZendeskApiError, not_found, parameter_missing
from hub.sandbox.zendesk.state import Upload, ZendeskState, new_token, ts

if TYPE_CHECKING:  # pragma: no cover
    from hub.sandbox.zendesk.emulator import ZendeskEmulator

MAX_UPLOAD_BYTES = 50 * 1024 * 1024
UPLOAD_TTL = timedelta(days=3)


def add_upload(state: ZendeskState, filename: str, content: bytes, content_type: str,
               token: str | None = None) -> Upload:
    """Store one file; a known ``token`` appends it to that upload, as Zendesk allows."""
    attachment_id = state.next_id("attachment")
    state.attachments[attachment_id] = {
        "id": attachment_id, "file_name": filename, "content_type": content_type, "size": len(content),
        "width": None, "height": None, "inline": False, "deleted": False, "malware_access_override": False,
        "malware_scan_result": "malware_not_found", "thumbnails": [], "_token": new_token()}
    state.attachment_bytes[attachment_id] = content
    upload = state.uploads.get(token) if token else None
    if upload is None:
        upload = Upload(token=new_token(), expires_at=ts(state.now() + UPLOAD_TTL), attachment_ids=[])
        state.uploads[upload.token] = upload
    upload.attachment_ids.append(attachment_id)
    return upload


def present_upload(state: ZendeskState, upload: Upload) -> dict:
    attachments = [present_attachment(state.attachments[i]) for i in upload.attachment_ids]
    return {"token": upload.token, "expires_at": upload.expires_at, "attachments": attachments,
            "attachment": attachments[-1]}


def register(bp: flask.Blueprint, emu: "ZendeskEmulator") -> None:
    route = emu.route

    @route(bp, "/api/v2/uploads.json", methods=["POST"])
    def upload():
        filename = flask.request.args.get("filename")
        if not filename:
            raise parameter_missing("filename")
        content = flask.request.get_data()
        if len(content) > MAX_UPLOAD_BYTES:
            raise ZendeskApiError(413, {"error": "RecordInvalid", "description": "Record validation errors",
                                        "details": {"size": [{"description": "File is too large (maximum 50 MB)",
                                                              "error": "InvalidValue"}]}})
        content_type = (flask.request.content_type or "application/octet-stream").split(";")[0]
        stored = add_upload(emu.state, filename, content, content_type, flask.request.args.get("token"))
        return {"upload": present_upload(emu.state, stored)}, 201

    @route(bp, "/api/v2/uploads/<token>.json", methods=["DELETE"])
    def delete_upload(token):
        upload = emu.state.uploads.pop(token, None)
        if upload is None:
            raise not_found()
        for attachment_id in upload.attachment_ids:
            emu.state.attachments.pop(attachment_id, None)
            emu.state.attachment_bytes.pop(attachment_id, None)
        return flask.Response(status=204)

    @route(bp, "/api/v2/attachments/<int:attachment_id>.json", methods=["GET"])
    def show_attachment(attachment_id):
        attachment = emu.state.attachments.get(attachment_id)
        if attachment is None:
            raise not_found()
        return {"attachment": present_attachment(attachment)}

    @route(bp, "/attachments/token/<token>/", methods=["GET"])
    def content(token):
        for attachment_id, attachment in emu.state.attachments.items():
            if attachment["_token"] == token:
                data = emu.state.attachment_bytes.get(attachment_id, b"")
                return flask.Response(data, mimetype=attachment["content_type"], headers={
                    "Content-Disposition": f'attachment; filename="{attachment["file_name"]}"',
                    "X-Content-Type-Options": "nosniff"})
        raise not_found()
