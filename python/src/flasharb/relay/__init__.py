"""The relay: a scanner publishes opportunities as binary messages (``wire``) to NATS JetStream (``broker``);
execution agents (``agent``) pull them, claim each one (and its pools) in a JetStream key-value bucket before
signing, and execute it through the bot's own stage code (``execution``). ``flasharb run`` stays the
single-process mode that needs no broker."""
