/**
 * Payd's response codes as Payloom answers them (clickatell-payd.md §5.2, §9; vendor-apis.md §2.5).
 * Every answer carries `responseCode` (4 digits, a string) and a message; the HTTP status per code is
 * listed in README.md. Where the vendor was seen answering a validation error with HTTP 500 (unknown
 * product, missing currency or funding source), Payloom answers 400 with the same code and message.
 */
export const paydCodes = {
  success: '0000',
  unexpected: '0001',
  badRequest: '4000',
  unauthorized: '4001',
  forbidden: '4003',
  serviceNotFound: '4010',
  feeInvalid: '2055',
  duplicate: '2604',
  notFound: '4040',
  rateLimited: '4290',
} as const;

export const paydMessages = {
  processing: 'Processing request',
  processingReserved: 'Processing request (funds reserved)',
  requestSuccessful: 'Request successful',
  unparsable: 'Transaction request not valid',
  signatureInvalid: 'Header Signature invalid',
  unexpected: 'Service temporarily unavailable',
  feeInvalid: 'Invalid Fee Amount',
  feeMissing: 'No feeAmount provided',
  duplicate: 'Duplicate clientTxnRef: it was used with a different request',
  msisdnExpected: 'Target Identifier expected to be an MSISDN based on the product',
  reserveRefMandatory: 'Reserve Funds transaction Reference is mandatory',
  reserveRefNotExpected: 'Reserve Funds transaction Reference was not expected',
  currencyMandatory: 'Currency Code is mandatory',
  currencyInvalid: 'Currency Code is invalid',
  fundingSourceMandatory: 'Funding Source ID is mandatory',
  fundingSourceNotLinked: 'Funding Source not linked to Client',
  tokenInvalid: 'Unauthorized: the access token is missing, invalid or expired',
  apiKeyInvalid: 'Unauthorized: X-API-Key is missing or not valid for this client',
  clientMismatch: 'clientId does not match the access token',
  serviceNotFound: 'Service not found - (610)',
} as const;

/** Transact Result codes Payloom sends for failures it decides itself (not relayed from biller or bank). */
export const resultCodes = {
  success: '0000',
  /** Catch-all supplier failure, used when a biller decline has no 22xx code of its own. */
  supplierUnable: '2201',
  productAmount: '2506',
  amountMin: '2509',
  amountMax: '2510',
  amountIncrement: '2511',
  productInactive: '2512',
} as const;

export const resultMessages: Readonly<Record<string, string>> = {
  '0000': 'Transaction successful',
  '2201': 'Supplier unable to complete the transaction',
  '2506': 'Purchase amount does not correspond to product price',
  '2509': 'Purchase amount below product minimum',
  '2510': 'Purchase amount above product maximum',
  '2511': 'Purchase amount does not match product increment',
  '2512': 'Product inactive',
};

/** MNO Lookup codes (clickatell-payd.md §7.5). */
export const mnoCodes = {
  badMsisdn: '9010',
  noOperator: '9020',
  timeout: '9030',
  unknownCountry: '9090',
} as const;
