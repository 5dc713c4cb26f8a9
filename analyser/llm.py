"""LLM providers: one small contract, off by default.

A provider turns chat messages plus a JSON schema into a JSON object that
validates against the schema, or raises :class:`LLMError`. Two ship here:

- ``openai``: any OpenAI-compatible HTTP endpoint (Ollama, vLLM, llama.cpp's
  server, LM Studio, OpenAI, Azure OpenAI). Structured output is asked for in
  the first form the server accepts: ``response_format`` ``json_schema``
  (OpenAI, vLLM, Ollama), then ``json_object`` with a ``schema`` (llama.cpp),
  then plain JSON mode. The answer is validated against the schema either way.
- ``transformers``: a local causal language model in this process (a folder,
  a Hugging Face id, or a GGUF file through ``gguf_file=``).

Requests run at temperature 0 with a seed, with a timeout, retries with
backoff and a bound on concurrent requests; answers are cached on disk by
provider, prompt version and input, so a second run sends nothing.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import os
import re
import socket
import sqlite3
import threading
import time
import urllib.error
import urllib.request
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any, Protocol

import yaml

from .errors import AnalyserError, ConfigurationError, MissingDependencyError
from .paths import cache_dir as default_cache_dir

PROVIDERS = ("openai", "transformers")
DEFAULT_API_KEY_ENV = "ANALYSER_LLM_API_KEY"
CONVERT_CACHE_MAX_BYTES = 1_500_000_000  # GGUF files up to this size are converted once and kept (see _converted)
ENV_PREFIX = "ANALYSER_LLM_"


class LLMError(AnalyserError):
    """A request that failed: the server is down, timed out, or answered outside the schema."""

    def __init__(self, message: str, hint: str = "", kind: str = "request") -> None:
        super().__init__(message, hint)
        self.kind = kind  # "connection", "timeout", "http", "schema"


@dataclass
class LLMConfig:
    """How to reach the model; from a file, the environment or the command line.

    The API key itself is never stored here (nor in results or caches): only
    the name of the environment variable that holds it.
    """

    provider: str = "openai"
    url: str = ""  # base URL of an OpenAI-compatible API, e.g. http://127.0.0.1:11434/v1
    model: str = ""  # model name on the server; for transformers a folder, HF id or .gguf file
    gguf_file: str = ""  # transformers: the GGUF file inside the model folder
    api_key_env: str = DEFAULT_API_KEY_ENV
    structured: str = "auto"  # auto | json_schema | json_object | none
    timeout: float = 60.0  # seconds per request
    max_retries: int = 2
    backoff: float = 1.0  # seconds before the first retry, doubled after each
    max_concurrency: int = 2
    temperature: float = 0.0
    seed: int = 0
    max_tokens: int = 1024
    use_cache: bool = True
    cache_dir: str = ""
    # What the assistant does with it.
    batch_size: int = 6  # comments per second-opinion request
    max_comments: int = 120  # second opinions per run, the least sure first
    margin: float = 0.15  # a score this close to its threshold counts as unsure
    max_themes: int = 40  # themes to title and summarise, the largest first
    max_action_dimensions: int = 3  # dimensions (most at stake first) to tailor actions for

    @property
    def enabled(self) -> bool:
        return bool(self.url) if self.provider == "openai" else bool(self.model)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def validate(self) -> LLMConfig:
        if self.provider not in PROVIDERS:
            raise ConfigurationError(
                f"Unknown LLM provider '{self.provider}'.", f"Choose one of: {', '.join(PROVIDERS)}."
            )
        if self.provider == "openai" and self.url and not re.match(r"^https?://", self.url):
            raise ConfigurationError(
                f"The LLM URL '{self.url}' is not an http(s) address.",
                "Give the API's base URL, e.g. http://127.0.0.1:11434/v1 for Ollama.",
            )
        if self.provider == "openai" and self.url and not self.model:
            raise ConfigurationError("An LLM URL was given without a model name.", "Pass --llm-model NAME too.")
        if self.structured not in ("auto", "json_schema", "json_object", "none"):
            raise ConfigurationError(
                f"Unknown structured-output mode '{self.structured}'.", "Use auto, json_schema, json_object or none."
            )
        if self.timeout <= 0 or self.max_concurrency < 1 or self.max_retries < 0 or self.batch_size < 1:
            raise ConfigurationError(
                "LLM timeout, concurrency and batch size must be positive.", "Check the LLM settings."
            )
        return self

    @classmethod
    def load(cls, path: str | Path | None = None, environ: dict[str, str] | None = None, **overrides: Any) -> LLMConfig:
        """Settings from a YAML file, then ANALYSER_LLM_* variables, then explicit overrides (None = unset)."""
        values: dict[str, Any] = {}
        known = {f.name: f for f in fields(cls)}
        if path:
            file = Path(path)
            if not file.is_file():
                raise ConfigurationError(f"The LLM settings file {file} does not exist.", "Check the path.")
            try:
                raw = yaml.safe_load(file.read_text(encoding="utf-8")) or {}
            except yaml.YAMLError as exc:
                raise ConfigurationError(f"The LLM settings file {file} is not valid YAML: {exc}.") from exc
            raw = raw.get("llm", raw) if isinstance(raw, dict) else raw
            if not isinstance(raw, dict):
                raise ConfigurationError(f"The LLM settings file {file} must hold a mapping of settings.")
            if "api_key" in raw:
                raise ConfigurationError(
                    f"{file} contains an API key.",
                    "Keep keys out of files: put it in an environment variable and set api_key_env to its name.",
                )
            unknown = sorted(set(raw) - set(known))
            if unknown:
                raise ConfigurationError(
                    f"Unknown LLM setting(s) in {file}: {', '.join(unknown)}.", f"Known: {', '.join(known)}."
                )
            values.update(raw)
        env = os.environ if environ is None else environ
        for name in known:
            if f"{ENV_PREFIX}{name.upper()}" in env:
                values[name] = env[f"{ENV_PREFIX}{name.upper()}"]
        values.update({k: v for k, v in overrides.items() if v is not None})
        config = cls()
        for name, value in values.items():
            kind = type(getattr(config, name))
            try:
                setattr(config, name, kind(value) if kind is not bool else str(value).lower() in ("1", "true", "yes"))
            except (TypeError, ValueError) as exc:
                raise ConfigurationError(f"The LLM setting {name}={value!r} is not a valid {kind.__name__}.") from exc
        return config.validate()


class LLMProvider(Protocol):
    """The contract: messages + schema in, a schema-valid JSON object out."""

    name: str  # identity for the cache and the record: provider, address and model

    def complete_json(self, messages: list[dict[str, str]], schema: dict[str, Any]) -> dict[str, Any]: ...

    def check(self) -> None:
        """Raise LLMError with a clear message if the model cannot be used."""


# ------------------------------------------------------------ answers


def without_enums(schema: Any) -> Any:
    """The schema an answer is validated against: the shape only. Ids, labels and keys are checked one by
    one afterwards, so a server that ignores the schema loses only the bad items, not the whole answer."""
    if isinstance(schema, dict):
        return {k: without_enums(v) for k, v in schema.items() if k != "enum"}
    if isinstance(schema, list):
        return [without_enums(v) for v in schema]
    return schema


def parse_json_answer(text: str, schema: dict[str, Any]) -> dict[str, Any]:
    """The JSON object in a model's answer, validated against the schema's shape (enums are checked
    item by item by the caller); code fences and chatter around it are ignored."""
    import jsonschema

    schema = without_enums(schema)

    cleaned = re.sub(r"^```(?:json)?|```$", "", text.strip(), flags=re.MULTILINE).strip()
    start = cleaned.find("{")
    if start < 0:
        raise LLMError("The model's answer holds no JSON object.", kind="schema")
    try:
        value, _ = json.JSONDecoder().raw_decode(cleaned[start:])
    except json.JSONDecodeError as exc:
        raise LLMError(f"The model's answer is not valid JSON ({exc.msg}).", kind="schema") from exc
    try:
        jsonschema.validate(value, schema)
    except jsonschema.ValidationError as exc:
        raise LLMError(f"The model's answer breaks the schema: {exc.message[:200]}.", kind="schema") from exc
    return value


class AnswerCache:
    """Answers on disk (SQLite), keyed by provider, prompt version and the exact request."""

    def __init__(self, path: str | Path) -> None:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        self._connection = sqlite3.connect(path, timeout=30, check_same_thread=False)
        self._lock = threading.Lock()
        with self._lock:
            self._connection.execute("PRAGMA journal_mode=WAL")
            self._connection.execute("CREATE TABLE IF NOT EXISTS answers (key TEXT PRIMARY KEY, answer TEXT)")

    @staticmethod
    def key(provider: str, prompt_id: str, messages: list[dict[str, str]], schema: dict[str, Any]) -> str:
        body = json.dumps([provider, prompt_id, messages, schema], sort_keys=True, ensure_ascii=False)
        return hashlib.blake2b(body.encode(), digest_size=20).hexdigest()

    def get(self, key: str) -> dict[str, Any] | None:
        with self._lock:
            row = self._connection.execute("SELECT answer FROM answers WHERE key = ?", (key,)).fetchone()
        return json.loads(row[0]) if row else None

    def put(self, key: str, answer: dict[str, Any]) -> None:
        with self._lock, self._connection:
            self._connection.execute(
                "INSERT OR REPLACE INTO answers VALUES (?, ?)", (key, json.dumps(answer, ensure_ascii=False))
            )


# ------------------------------------------------------------ providers


class OpenAICompatibleProvider:
    """Chat completions over HTTP with structured output, retries and a concurrency bound."""

    def __init__(self, config: LLMConfig) -> None:
        self.config = config
        self.base_url = config.url.rstrip("/")
        self.name = f"openai:{self.base_url}:{config.model}"
        self._mode = config.structured  # resolved on the first answer when "auto"
        self._mode_lock = threading.Lock()
        self._slots = threading.BoundedSemaphore(config.max_concurrency)

    def _headers(self) -> dict[str, str]:
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        key = os.environ.get(self.config.api_key_env, "")
        if key:
            headers["Authorization"] = f"Bearer {key}"
            headers["api-key"] = key  # Azure OpenAI reads this header instead
        return headers

    def _request(self, method: str, path: str, body: dict[str, Any] | None, timeout: float) -> dict[str, Any]:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.base_url + path, data=data, headers=self._headers(), method=method)
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                return json.loads(response.read().decode("utf-8"))
        except urllib.error.HTTPError as exc:
            detail = exc.read().decode("utf-8", "replace")[:300]
            error = LLMError(f"The LLM server answered HTTP {exc.code}: {detail}", kind="http")
            error.status = exc.code  # type: ignore[attr-defined]
            raise error from exc
        except TimeoutError as exc:
            raise LLMError(
                f"The LLM server at {self.base_url} did not answer within {timeout:g} s.",
                "Raise the timeout (--llm-timeout) or use a smaller or faster model.",
                kind="timeout",
            ) from exc
        except urllib.error.URLError as exc:
            reason = exc.reason
            if isinstance(reason, (TimeoutError, socket.timeout)):
                raise LLMError(
                    f"The LLM server at {self.base_url} did not answer within {timeout:g} s.",
                    "Raise the timeout (--llm-timeout) or use a smaller or faster model.",
                    kind="timeout",
                ) from exc
            raise LLMError(
                f"Cannot reach the LLM server at {self.base_url} ({reason}).",
                "Start the server (e.g. 'ollama serve') or check --llm-url.",
                kind="connection",
            ) from exc
        except (http.client.HTTPException, ConnectionError) as exc:  # e.g. the server closed the connection
            raise LLMError(
                f"The LLM server at {self.base_url} closed the connection ({exc.__class__.__name__}).",
                "Check the server's log; it may have crashed or be overloaded.",
                kind="connection",
            ) from exc
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise LLMError(f"The LLM server at {self.base_url} did not answer with JSON.", kind="http") from exc

    def check(self) -> None:
        """Fail fast with one message when the server is down; /models is optional on some servers."""
        try:
            self._request("GET", "/models", None, timeout=min(self.config.timeout, 10.0))
        except LLMError as exc:
            if exc.kind in ("connection", "timeout"):
                raise

    def _body(self, messages: list[dict[str, str]], schema: dict[str, Any], mode: str) -> dict[str, Any]:
        body: dict[str, Any] = {
            "model": self.config.model,
            "messages": messages,
            "temperature": self.config.temperature,
            "seed": self.config.seed,
            "max_tokens": self.config.max_tokens,
        }
        if mode == "json_schema":
            body["response_format"] = {
                "type": "json_schema",
                "json_schema": {"name": "answer", "schema": schema, "strict": False},
            }
        elif mode == "json_object":
            body["response_format"] = {"type": "json_object", "schema": schema}
        return body

    def _with_retries(self, body: dict[str, Any]) -> dict[str, Any]:
        delay = self.config.backoff
        for attempt in range(self.config.max_retries + 1):
            try:
                with self._slots:
                    return self._request("POST", "/chat/completions", body, timeout=self.config.timeout)
            except LLMError as exc:
                status = getattr(exc, "status", 0)
                retryable = exc.kind in ("connection", "timeout") or status == 429 or status >= 500
                if not retryable or attempt == self.config.max_retries:
                    raise
                time.sleep(delay)
                delay *= 2
        raise AssertionError("unreachable")

    def complete_json(self, messages: list[dict[str, str]], schema: dict[str, Any]) -> dict[str, Any]:
        if self._mode == "auto":
            # The first request finds the form the server accepts; the others wait for it rather than
            # all being refused at once.
            with self._mode_lock:
                if self._mode == "auto":
                    return self._complete(messages, schema)
        return self._complete(messages, schema)

    def _complete(self, messages: list[dict[str, str]], schema: dict[str, Any]) -> dict[str, Any]:
        modes = ["json_schema", "json_object", "none"] if self._mode == "auto" else [self._mode]
        for i, mode in enumerate(modes):
            try:
                reply = self._with_retries(self._body(messages, schema, mode))
            except LLMError as exc:
                # A server that rejects this kind of response_format: try the next form.
                if getattr(exc, "status", 0) in (400, 422, 500) and i + 1 < len(modes):
                    continue
                raise
            if self._mode == "auto":
                self._mode = mode
            try:
                text = reply["choices"][0]["message"]["content"] or ""
            except (KeyError, IndexError, TypeError) as exc:
                raise LLMError("The LLM server's reply has no message content.", kind="schema") from exc
            return parse_json_answer(text, schema)
        raise AssertionError("unreachable")


class TransformersProvider:
    """A local causal language model in this process, greedy decoding, one request at a time."""

    def __init__(self, config: LLMConfig) -> None:
        self.config = config
        model = config.model
        gguf_file = config.gguf_file
        if model.endswith(".gguf") and not gguf_file:
            path = Path(model)
            model, gguf_file = str(path.parent), path.name
        self.model_id, self.gguf_file = model, gguf_file
        self.name = f"transformers:{model}:{gguf_file}"
        self._lock = threading.Lock()
        self._model: Any = None
        self._tokenizer: Any = None

    def _load(self) -> None:
        if self._model is not None:
            return
        try:
            import torch  # noqa: F401
            from transformers import AutoModelForCausalLM, AutoTokenizer
        except ImportError as exc:
            raise MissingDependencyError(
                "The in-process LLM needs torch and transformers.",
                "pip install -e '.[transformers]' (and 'gguf' for a .gguf file)",
            ) from exc
        try:
            converted = self._converted() if self.gguf_file else None
            source = converted or self.model_id
            kwargs = {"gguf_file": self.gguf_file} if self.gguf_file and not converted else {}
            self._tokenizer = AutoTokenizer.from_pretrained(source, **kwargs)
            self._model = AutoModelForCausalLM.from_pretrained(source, **kwargs)
        except (OSError, ValueError, ImportError) as exc:
            raise LLMError(
                f"Cannot load the language model '{self.model_id}' {self.gguf_file}: {exc}".strip(),
                "Give a local folder, a .gguf file, or a Hugging Face id that is in the local cache.",
                kind="connection",
            ) from exc
        self._model.eval()

    def _converted(self) -> str | None:
        """A GGUF file is de-quantised and its tokenizer rebuilt at every load (half a minute for a 270M model,
        minutes under load); the first load saves the converted model in the cache folder and later loads read
        that. Only for files up to CONVERT_CACHE_MAX_BYTES: the converted weights are float32, about 4-8 times the
        GGUF's size on disk. Returns the folder to load from, or None to load the GGUF itself."""
        gguf = Path(self.model_id) / self.gguf_file
        if not gguf.is_file() or gguf.stat().st_size > CONVERT_CACHE_MAX_BYTES:
            return None
        from transformers import AutoModelForCausalLM, AutoTokenizer

        stat = gguf.stat()
        tag = hashlib.blake2b(f"{gguf.resolve()}:{stat.st_size}:{stat.st_mtime_ns}".encode(), digest_size=8).hexdigest()
        folder = (Path(self.config.cache_dir) if self.config.cache_dir else default_cache_dir()) / "llm-models"
        target = folder / f"{gguf.stem}-{tag}"
        if (target / "config.json").is_file():
            return str(target)
        tokenizer = AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
        model = AutoModelForCausalLM.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
        # The weights are plain float32 tensors once de-quantised; transformers only refuses to save
        # them because the model still carries the GGUF quantiser's marker.
        model.hf_quantizer = None
        model.is_quantized = False
        if hasattr(model.config, "quantization_config"):
            del model.config.quantization_config
        partial = folder / f".{target.name}.{os.getpid()}"
        tokenizer.save_pretrained(partial)
        model.save_pretrained(partial)
        try:
            partial.rename(target)  # atomic: a half-written folder is never taken for a model
        except OSError:  # another process got there first
            import shutil

            shutil.rmtree(partial, ignore_errors=True)
        return str(target)

    def check(self) -> None:
        self._load()

    def complete_json(self, messages: list[dict[str, str]], schema: dict[str, Any]) -> dict[str, Any]:
        import torch

        with self._lock:
            self._load()
            started = time.perf_counter()
            if self._tokenizer.chat_template:
                inputs = self._tokenizer.apply_chat_template(
                    messages, add_generation_prompt=True, return_tensors="pt", return_dict=True
                )
            else:  # a base model without a chat template: plain text, the answer primed with JSON
                prompt = "\n\n".join(m["content"] for m in messages) + "\n\nJSON:\n"
                inputs = self._tokenizer(prompt, return_tensors="pt")
            torch.manual_seed(self.config.seed)
            with torch.no_grad():
                output = self._model.generate(
                    **inputs,
                    max_new_tokens=self.config.max_tokens,
                    do_sample=False,
                    pad_token_id=self._tokenizer.eos_token_id,
                )
            text = self._tokenizer.decode(output[0][inputs["input_ids"].shape[1] :], skip_special_tokens=True)
            if time.perf_counter() - started > self.config.timeout:
                raise LLMError(
                    f"The local model took longer than {self.config.timeout:g} s.",
                    "Raise the timeout or lower max_tokens.",
                    kind="timeout",
                )
        return parse_json_answer(text, schema)


def make_provider(config: LLMConfig) -> LLMProvider:
    config.validate()
    if config.provider == "transformers":
        return TransformersProvider(config)
    return OpenAICompatibleProvider(config)


@dataclass
class CallLog:
    """What happened to the requests of one assistant task."""

    sent: int = 0
    cached: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)


class CachedProvider:
    """Wraps a provider with the on-disk answer cache."""

    def __init__(self, provider: LLMProvider, config: LLMConfig) -> None:
        self.provider = provider
        self.name = provider.name
        folder = Path(config.cache_dir) if config.cache_dir else default_cache_dir()
        self.cache = AnswerCache(folder / "llm_answers.sqlite") if config.use_cache else None

    def check(self) -> None:
        self.provider.check()

    def complete_json(
        self, messages: list[dict[str, str]], schema: dict[str, Any], prompt_id: str, log: CallLog
    ) -> dict[str, Any]:
        key = AnswerCache.key(self.name, prompt_id, messages, schema)
        if self.cache is not None:
            hit = self.cache.get(key)
            if hit is not None:
                log.cached += 1
                return hit
        log.sent += 1
        answer = self.provider.complete_json(messages, schema)
        if self.cache is not None:
            self.cache.put(key, answer)
        return answer
