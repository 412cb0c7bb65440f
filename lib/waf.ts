/**
 * The WAFv2 web ACL facekit puts in front of its API Gateway stage: a request-size rule and a
 * per-IP rate-based rule. Infrastructure only.
 *
 * Why the size rule looks at `Content-Length` and not at the body: WAF inspects at most the first
 * 16 KB (API Gateway default; 64 KB at extra cost) of a body, so a body size constraint can't tell a
 * 5 MB image from a 50 MB one. WAF has no numeric comparison either, so the rule matches the header
 * against regular expressions that accept exactly the decimal numbers greater than the limit.
 * Requests without a Content-Length (chunked) are left to API Gateway's own 10 MB payload limit.
 */
import { Stack } from 'aws-cdk-lib';
import * as wafv2 from 'aws-cdk-lib/aws-wafv2';
import { Construct } from 'constructs';

/** WAF allows at most 10 regular expressions per regex pattern set (default quota). */
const MAX_PATTERNS_PER_SET = 10;

/**
 * Regular expressions (WAF/PCRE subset: no groups, no alternation) that together match exactly the
 * decimal strings, optionally zero-padded, whose value is greater than `limit`.
 *
 * For a limit with d digits m[0..d): every number with more than d significant digits, plus, for each
 * position i where m[i] < 9, the numbers sharing m's first i digits and having a larger digit at i.
 */
export function decimalGreaterThanPatterns(limit: number): string[] {
  if (!Number.isSafeInteger(limit) || limit < 0) {
    throw new Error(`decimalGreaterThanPatterns: limit must be a non-negative safe integer, got ${limit}`);
  }
  const digits = String(limit);
  const d = digits.length;
  const patterns = [`^0*[1-9][0-9]{${d},}$`];
  for (let i = 0; i < d; i++) {
    const m = Number(digits[i]);
    if (m === 9) continue;
    const next = m + 1;
    const cls = next === 9 ? '9' : `[${next}-9]`;
    const rest = d - i - 1;
    const tail = rest === 0 ? '' : `[0-9]{${rest}}`;
    // A leading 0 in the limit only happens for limit 0 (d = 1), covered by the class [1-9].
    patterns.push(`^0*${digits.slice(0, i)}${cls}${tail}$`);
  }
  return patterns;
}

export interface FacekitWebAclProps {
  /** Requests whose Content-Length is greater than this are blocked with HTTP 413. */
  readonly maxRequestBodyBytes: number;
  /** Requests per source IP per 5-minute window above which that IP is blocked with HTTP 429. */
  readonly rateLimitPer5Minutes: number;
  /** ARN of the API Gateway stage to protect. */
  readonly stageArn: string;
}

/** A regional WAFv2 web ACL (size + rate rules) associated with one API Gateway stage. */
export class FacekitWebAcl extends Construct {
  public readonly webAcl: wafv2.CfnWebACL;
  public readonly association: wafv2.CfnWebACLAssociation;

  constructor(scope: Construct, id: string, props: FacekitWebAclProps) {
    super(scope, id);
    const patterns = decimalGreaterThanPatterns(props.maxRequestBodyBytes);
    if (patterns.length > MAX_PATTERNS_PER_SET) {
      throw new Error(`maxRequestBodyBytes ${props.maxRequestBodyBytes} needs ${patterns.length} WAF patterns (max ${MAX_PATTERNS_PER_SET}).`);
    }
    const metricPrefix = `facekit-${Stack.of(this).stackName}`.replace(/[^A-Za-z0-9_-]/g, '-').slice(0, 100);

    const oversize = new wafv2.CfnRegexPatternSet(this, 'ContentLengthOverLimit', {
      scope: 'REGIONAL',
      description: `Content-Length values greater than ${props.maxRequestBodyBytes}`,
      regularExpressionList: patterns,
    });

    this.webAcl = new wafv2.CfnWebACL(this, 'WebAcl', {
      scope: 'REGIONAL',
      description: 'facekit: request size limit and per-IP rate limit',
      defaultAction: { allow: {} },
      // Sampled requests would keep request headers (x-api-key, Authorization) visible in the console.
      visibilityConfig: { cloudWatchMetricsEnabled: true, metricName: metricPrefix, sampledRequestsEnabled: false },
      rules: [
        {
          name: 'RequestBodyTooLarge',
          priority: 0,
          action: { block: { customResponse: { responseCode: 413 } } },
          statement: {
            regexPatternSetReferenceStatement: {
              arn: oversize.attrArn,
              fieldToMatch: { singleHeader: { Name: 'content-length' } },
              textTransformations: [{ priority: 0, type: 'NONE' }],
            },
          },
          visibilityConfig: { cloudWatchMetricsEnabled: true, metricName: `${metricPrefix}-too-large`, sampledRequestsEnabled: false },
        },
        {
          name: 'RateLimitPerIp',
          priority: 1,
          action: { block: { customResponse: { responseCode: 429 } } },
          statement: {
            rateBasedStatement: { limit: props.rateLimitPer5Minutes, aggregateKeyType: 'IP', evaluationWindowSec: 300 },
          },
          visibilityConfig: { cloudWatchMetricsEnabled: true, metricName: `${metricPrefix}-rate`, sampledRequestsEnabled: false },
        },
      ],
    });

    this.association = new wafv2.CfnWebACLAssociation(this, 'Association', {
      resourceArn: props.stageArn,
      webAclArn: this.webAcl.attrArn,
    });
  }
}
