// Three processes start, join Kafka and create indexes before the first assertion.
jest.setTimeout(120_000);
