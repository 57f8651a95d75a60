"""Google's error answers: the JSON envelope (google.rpc.Status) with its status names,
the HTTP reason phrases, and the bodies of the faults a test can queue."""

from __future__ import annotations

from typing import Any

# Google's own wording for a per-user read quota hit (the shape of a real 429 from the
# Sheets API: google.rpc.Status with an ErrorInfo detail).
QUOTA_ERROR = {
    "error": {
        "code": 429,
        "message": (
            "Quota exceeded for quota metric 'Read requests' and limit 'Read requests per minute "
            "per user' of service 'sheets.googleapis.com' for consumer 'project_number:000000000000'."
        ),
        "status": "RESOURCE_EXHAUSTED",
        "details": [
            {
                "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                "reason": "RATE_LIMIT_EXCEEDED",
                "domain": "googleapis.com",
                "metadata": {
                    "quota_limit": "ReadRequestsPerMinutePerUser",
                    "quota_metric": "sheets.googleapis.com/read_requests",
                    "service": "sheets.googleapis.com",
                    "consumer": "projects/000000000000",
                    "quota_limit_value": "60",
                },
            }
        ],
    }
}

STATUS_NAMES = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    409: "ABORTED",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    503: "UNAVAILABLE",
}
REASONS = {200: "OK", 204: "No Content", 400: "Bad Request", 401: "Unauthorized", 403: "Forbidden"}
REASONS |= {404: "Not Found", 429: "Too Many Requests", 500: "Internal Server Error"}
REASONS |= {503: "Service Unavailable"}


class ApiError(Exception):
    """An error answer, in Google's envelope."""

    def __init__(self, code: int, message: str, details: list[dict[str, Any]] | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.details = details

    def body(self) -> dict[str, Any]:
        err: dict[str, Any] = {"code": self.code, "message": self.message, "status": STATUS_NAMES[self.code]}
        if self.details:
            err["details"] = self.details
        return {"error": err}


def bad(message: str) -> ApiError:
    return ApiError(400, message)


def fault_message(code: int) -> str:
    if code == 503:
        return "The service is currently unavailable."
    return "Internal error encountered."
