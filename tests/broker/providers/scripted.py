"""A tiny real ASGI provider for policy tests: it answers each request with the next scripted
answer (then a default one), and records what it received, so that tests can count requests
at the server side."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field


@dataclass
class Answer:
    status: int = 200
    body: bytes = b"{}"
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    content_type: str = "application/json"


@dataclass
class Received:
    method: str
    path: str
    headers: dict[str, str]


class ScriptedProvider:
    def __init__(self) -> None:
        self.script: list[Answer] = []
        self.default = Answer()
        self.received: list[Received] = []

    def reset(self, *answers: Answer, default: Answer | None = None) -> None:
        self.script = list(answers)
        self.default = default or Answer()
        self.received = []

    @property
    def count(self) -> int:
        return len(self.received)

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        headers = {k.decode(): v.decode() for k, v in scope["headers"]}
        self.received.append(Received(scope["method"], scope["path"], headers))
        answer = self.script.pop(0) if self.script else self.default
        if answer.delay:
            await asyncio.sleep(answer.delay)
        raw_headers = [(b"content-type", answer.content_type.encode())]
        raw_headers += [(k.encode(), v.encode()) for k, v in answer.headers.items()]
        await send({"type": "http.response.start", "status": answer.status, "headers": raw_headers})
        await send({"type": "http.response.body", "body": answer.body})
