"""litellm's default tokenizer is built only when read, and is the same tokenizer then."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import litellm.main
import tiktoken

from agents.litellm_memory import CACHE, LazyEncoding


def test_an_offline_completion_builds_no_tokenizer() -> None:
    script = textwrap.dedent(
        """
        import sys
        import litellm
        from agents.offline import OfflineStep, install_policy
        model = install_policy("probe", lambda request: OfflineStep(text="On it."))
        reply = litellm.completion(model=model, messages=[{"role": "user", "content": "Hi"}])
        assert reply.choices[0].message.content == "On it."
        assert not hasattr(litellm.utils, "json_data")
        print("litellm.litellm_core_utils.default_encoding" in sys.modules)
        """
    )
    run = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=False, timeout=120
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "False"


def test_the_stand_in_encodes_as_cl100k_and_steps_aside() -> None:
    lazy = LazyEncoding()
    setattr(litellm.main, CACHE, lazy)
    text = "Please refund the double charge on INV-1018 <|endoftext|>"
    tokens = lazy.encode(text, disallowed_special=())  # first: litellm points tiktoken offline
    assert tokens == tiktoken.get_encoding("cl100k_base").encode(text, disallowed_special=())
    assert getattr(litellm.main, CACHE) is not lazy
    assert getattr(litellm.main, CACHE).name == "cl100k_base"
