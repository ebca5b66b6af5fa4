"""Object store on the S3 API (AWS S3, MinIO) through boto3: the production backend.

Failures are translated into the storage errors of :mod:`screening.storage.base`
so callers never see botocore types: a missing key is :class:`ObjectNotFound`; an
unreachable endpoint, a missing bucket or refused credentials is
:class:`StorageUnavailable`, with a message naming the endpoint and bucket and the
setting to check. Timeouts and retries are short so a dead endpoint fails in
seconds instead of hanging a request or a worker.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, BinaryIO

import boto3
from boto3.s3.transfer import TransferConfig
from botocore.config import Config
from botocore.exceptions import (
    ClientError,
    CredentialRetrievalError,
    HTTPClientError,
    NoCredentialsError,
    PartialCredentialsError,
)
from botocore.exceptions import (
    ConnectionError as BotoConnectionError,
)

from screening.storage.base import (
    DEFAULT_CONTENT_TYPE,
    ObjectNotFound,
    StorageError,
    StorageUnavailable,
    validate_content_type,
    validate_key,
    validate_prefix,
)

MULTIPART_CHUNK_BYTES = 8 * 1024 * 1024
_UNREACHABLE = (BotoConnectionError, HTTPClientError)
_NO_CREDENTIALS = (NoCredentialsError, PartialCredentialsError, CredentialRetrievalError)
_NOT_FOUND_CODES = {"NoSuchKey", "NotFound", "404"}
_NO_BUCKET_CODES = {"NoSuchBucket", "NotFound", "404"}
_REFUSED_CODES = {"AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch", "InvalidToken", "ExpiredToken", "403"}


class S3ObjectStore:
    """:class:`~screening.storage.base.ObjectStore` on one S3 bucket.

    Path-style addressing is used because MinIO and most self-hosted S3 servers
    do not resolve per-bucket host names.
    """

    def __init__(
        self,
        bucket: str,
        endpoint_url: str | None = None,
        access_key: str | None = None,
        secret_key: str | None = None,
        region: str = "us-east-1",
        *,
        connect_timeout: float = 2.0,
        read_timeout: float = 60.0,
        max_attempts: int = 2,
    ) -> None:
        if not bucket:
            raise ValueError("an S3 bucket name is required (OSTEO_S3_BUCKET)")
        self.bucket = bucket
        self.endpoint_url = endpoint_url
        self.region = region
        config = Config(
            region_name=region,
            signature_version="s3v4",
            s3={"addressing_style": "path"},
            connect_timeout=connect_timeout,
            read_timeout=read_timeout,
            retries={"mode": "standard", "max_attempts": max_attempts},
            # Checksums only where the API demands them: older MinIO and other
            # S3-compatible servers reject the newer default trailing checksums.
            request_checksum_calculation="when_required",
            response_checksum_validation="when_required",
        )
        self._client = boto3.session.Session().client(
            "s3",
            endpoint_url=endpoint_url,
            aws_access_key_id=access_key,
            aws_secret_access_key=secret_key,
            region_name=region,
            config=config,
        )
        self._transfer = TransferConfig(
            multipart_threshold=MULTIPART_CHUNK_BYTES,
            multipart_chunksize=MULTIPART_CHUNK_BYTES,
            max_concurrency=4,
        )

    def __repr__(self) -> str:
        return f"S3ObjectStore(bucket={self.bucket!r}, endpoint={self._where})"

    @property
    def _where(self) -> str:
        return self.endpoint_url or f"AWS S3 ({self.region})"

    # -- error translation -----------------------------------------------------

    def _missing_bucket(self) -> StorageUnavailable:
        return StorageUnavailable(
            f"S3 bucket {self.bucket!r} does not exist at {self._where}; "
            "create it (`S3ObjectStore.ensure_bucket()` / the setup command) or check OSTEO_S3_BUCKET"
        )

    def _translate(self, exc: ClientError, key: str | None) -> StorageError:
        """Map an S3 error response to a storage error that says what to fix."""
        code = str(exc.response.get("Error", {}).get("Code", ""))
        if code == "NoSuchBucket":
            return self._missing_bucket()
        if code in _NOT_FOUND_CODES and key is not None:
            # HEAD answers a bare 404 both for a missing key and a missing bucket.
            return ObjectNotFound(key) if self._bucket_exists() else self._missing_bucket()
        if code in _REFUSED_CODES:
            return StorageUnavailable(
                f"S3 endpoint {self._where} refused access to bucket {self.bucket!r} ({code}); "
                "check OSTEO_S3_ACCESS_KEY, OSTEO_S3_SECRET_KEY and the bucket policy"
            )
        target = f"{self.bucket}/{key}" if key is not None else self.bucket
        return StorageError(f"S3 request for {target} at {self._where} failed: {exc}")

    @contextmanager
    def _errors(self, key: str | None = None) -> Iterator[None]:
        """Raise storage errors instead of botocore ones for the requests made inside."""
        try:
            yield
        except ClientError as exc:
            raise self._translate(exc, key) from exc
        except _UNREACHABLE as exc:
            raise StorageUnavailable(
                f"cannot reach the S3 endpoint {self._where} (bucket {self.bucket!r}): {exc}; "
                "check OSTEO_S3_ENDPOINT_URL and that the server is running"
            ) from exc
        except _NO_CREDENTIALS as exc:
            raise StorageUnavailable(
                f"no usable S3 credentials for {self._where}: {exc}; "
                "set OSTEO_S3_ACCESS_KEY and OSTEO_S3_SECRET_KEY"
            ) from exc

    def _bucket_exists(self) -> bool:
        with self._errors():
            try:
                self._client.head_bucket(Bucket=self.bucket)
            except ClientError as exc:
                if str(exc.response.get("Error", {}).get("Code", "")) in _NO_BUCKET_CODES:
                    return False
                raise
        return True

    def _head(self, key: str) -> dict[str, Any]:
        with self._errors(validate_key(key)):
            return self._client.head_object(Bucket=self.bucket, Key=key)

    # -- setup -----------------------------------------------------------------

    def ensure_bucket(self) -> None:
        """Create the bucket if it does not exist (setup commands, tests); safe to repeat."""
        if self._bucket_exists():
            return
        arguments: dict[str, Any] = {"Bucket": self.bucket}
        if self.region != "us-east-1":
            arguments["CreateBucketConfiguration"] = {"LocationConstraint": self.region}
        with self._errors():
            try:
                self._client.create_bucket(**arguments)
            except ClientError as exc:
                if exc.response.get("Error", {}).get("Code") != "BucketAlreadyOwnedByYou":
                    raise

    # -- writing ---------------------------------------------------------------

    def put_bytes(self, key: str, data: bytes, content_type: str = DEFAULT_CONTENT_TYPE) -> None:
        """Store ``data`` under ``key`` in one request."""
        validate_key(key)
        validate_content_type(content_type)
        with self._errors(key):
            self._client.put_object(Bucket=self.bucket, Key=key, Body=data, ContentType=content_type)

    def put_stream(self, key: str, stream: BinaryIO, content_type: str = DEFAULT_CONTENT_TYPE) -> None:
        """Multipart upload in 8 MiB parts; a failed upload is aborted, so no object appears."""
        validate_key(key)
        validate_content_type(content_type)
        with self._errors(key):
            self._client.upload_fileobj(
                stream, self.bucket, key, ExtraArgs={"ContentType": content_type}, Config=self._transfer
            )

    # -- reading ---------------------------------------------------------------

    def get_bytes(self, key: str) -> bytes:
        """The whole object; raises :class:`ObjectNotFound`."""
        with self._open(key) as body, self._errors(key):
            return body.read()

    def open(self, key: str) -> BinaryIO:
        """A forward-only stream of the object body (not seekable); the caller closes it."""
        return self._open(key)

    def _open(self, key: str) -> Any:
        with self._errors(validate_key(key)):
            return self._client.get_object(Bucket=self.bucket, Key=key)["Body"]

    def exists(self, key: str) -> bool:
        """True if an object is stored under ``key``."""
        try:
            self._head(key)
        except ObjectNotFound:
            return False
        return True

    def size(self, key: str) -> int:
        """Size in bytes; raises :class:`ObjectNotFound`."""
        return int(self._head(key)["ContentLength"])

    def content_type(self, key: str) -> str:
        """Content type stored with the object."""
        return str(self._head(key).get("ContentType") or DEFAULT_CONTENT_TYPE)

    def list(self, prefix: str = "") -> Iterator[str]:
        """Keys under ``prefix`` in S3's (sorted) order, following every page of 1000."""
        validate_prefix(prefix)
        return self._iter_keys(prefix)

    def _iter_keys(self, prefix: str) -> Iterator[str]:
        pages = self._client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=prefix)
        with self._errors():
            for page in pages:
                for entry in page.get("Contents", []):
                    yield entry["Key"]

    # -- deleting --------------------------------------------------------------

    def delete(self, key: str) -> None:
        """Remove the object; S3 treats deleting a missing key as success."""
        validate_key(key)
        with self._errors(key):
            self._client.delete_object(Bucket=self.bucket, Key=key)
