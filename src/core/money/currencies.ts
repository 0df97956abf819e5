/**
 * ISO 4217 active currency codes and their minor-unit exponents. This is the only place in Payloom that
 * knows how many decimals a currency has (STYLE.md §1). Exponent 2 unless listed otherwise below.
 */
const exponentTwo = `AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BMD BND BOB BOV BRL BSD BTN BWP BYN BZD
CAD CDF CHE CHF CHW CNY COP COU CRC CUP CVE CZK DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP GEL GHS GIP GMD GTQ GYD
HKD HNL HTG HUF IDR ILS INR IRR JMD KES KGS KHR KPW KYD KZT LAK LBP LKR LRD LSL MAD MDL MGA MKD MMK MNT MOP MRU
MUR MVR MWK MXN MXV MYR MZN NAD NGN NIO NOK NPR NZD PAB PEN PGK PHP PKR PLN QAR RON RSD RUB SAR SBD SCR SDG SEK
SGD SHP SLE SOS SRD SSP STN SVC SYP SZL THB TJS TMT TOP TRY TTD TWD TZS UAH USD USN UYU UZS VES WST XCD XCG YER
ZAR ZMW ZWG`;
const exponentZero = 'BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX UYI VND VUV XAF XOF XPF';
const exponentThree = 'BHD IQD JOD KWD LYD OMR TND';
const exponentFour = 'CLF UYW';

function table(): ReadonlyMap<string, number> {
  const map = new Map<string, number>();
  const add = (codes: string, exponent: number): void => {
    for (const code of codes.split(/\s+/).filter(Boolean)) map.set(code, exponent);
  };
  add(exponentTwo, 2);
  add(exponentZero, 0);
  add(exponentThree, 3);
  add(exponentFour, 4);
  return map;
}

export const currencyExponents: ReadonlyMap<string, number> = table();
