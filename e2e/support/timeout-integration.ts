// Real services: a consumer group's first join alone can take seconds.
jest.setTimeout(60_000);
