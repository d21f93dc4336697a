"""Moved to ``airflow_provider_seedance.runtime.storage``; this path keeps working."""

from airflow_provider_seedance.runtime.storage import CHUNK_SIZE as CHUNK_SIZE
from airflow_provider_seedance.runtime.storage import FILESYSTEM_PACKAGES as FILESYSTEM_PACKAGES
from airflow_provider_seedance.runtime.storage import DownloadLimitError as DownloadLimitError
from airflow_provider_seedance.runtime.storage import DownloadTooLarge as DownloadTooLarge
from airflow_provider_seedance.runtime.storage import DownloadTooSlow as DownloadTooSlow
from airflow_provider_seedance.runtime.storage import OutputNotWritable as OutputNotWritable
from airflow_provider_seedance.runtime.storage import SavedVideo as SavedVideo
from airflow_provider_seedance.runtime.storage import TransferLimits as TransferLimits
from airflow_provider_seedance.runtime.storage import VideoCheckError as VideoCheckError
from airflow_provider_seedance.runtime.storage import VideoWriter as VideoWriter
from airflow_provider_seedance.runtime.storage import asave_stream as asave_stream
from airflow_provider_seedance.runtime.storage import check_mp4_head as check_mp4_head
from airflow_provider_seedance.runtime.storage import check_writable as check_writable
from airflow_provider_seedance.runtime.storage import file_sha256 as file_sha256
from airflow_provider_seedance.runtime.storage import is_part_of as is_part_of
from airflow_provider_seedance.runtime.storage import make_folders as make_folders
from airflow_provider_seedance.runtime.storage import missing_filesystem as missing_filesystem
from airflow_provider_seedance.runtime.storage import missing_module as missing_module
from airflow_provider_seedance.runtime.storage import save_stream as save_stream
from airflow_provider_seedance.runtime.storage import to_object_path as to_object_path
