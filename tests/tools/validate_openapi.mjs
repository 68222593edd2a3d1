// Validates an OpenAPI document (3.0 or 3.1) with @readme/openapi-parser.
// Usage: node validate_openapi.mjs <file>; prints "valid" or the errors and
// exits non-zero.
import OpenAPIParser from "@readme/openapi-parser";

const file = process.argv[2];
try {
  const api = await OpenAPIParser.validate(file);
  console.log(`valid: OpenAPI ${api.openapi}, ${Object.keys(api.paths).length} paths`);
} catch (e) {
  console.log(`invalid: ${e.message}`);
  process.exit(1);
}
