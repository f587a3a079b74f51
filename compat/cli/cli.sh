#!/usr/bin/env bash
# cairn compatibility suite for the AWS CLI, v1 or v2: the whole Cloud Map
# lifecycle through `aws servicediscovery`, asserted with --query.
#
# Run by compat_test.go against a running cairn; see compat/README.md for the
# environment it reads. By hand:
#
#   AWS=/usr/bin/aws CAIRN_ENDPOINT=http://127.0.0.1:9080 bash compat/cli/cli.sh
#
# It ends with "N passed, N failed" and exits 1 if anything failed.
set -uo pipefail

AWS=${AWS:-aws}
EP=${CAIRN_ENDPOINT:-http://127.0.0.1:9080}
DATA_EP=${CAIRN_DATA_ENDPOINT:-}
PREFIX=${CAIRN_PREFIX:-cli$$}
AUTH=${CAIRN_AUTH:-0}
API_PORT=${EP##*:}
API_PORT=${API_PORT%/}
# Health-checked instances point at a target the harness runs (cairn never
# probes its own listeners when it verifies signatures).
API_PORT=${CAIRN_HEALTH_TARGET_PORT:-$API_PORT}
export AWS_DEFAULT_REGION=${AWS_DEFAULT_REGION:-us-east-1} AWS_PAGER=""

version=$("$AWS" --version 2>&1)
case "$version" in
aws-cli/1.*) MAJOR=1 ERR_RC=255 ;; # v1: every error exits 255
aws-cli/2.*) MAJOR=2 ERR_RC=254 ;; # v2: a service error exits 254
*) echo "not an AWS CLI: $AWS --version said: $version"; exit 2 ;;
esac
echo "# $version (CLI v$MAJOR) against $EP; auth=$AUTH"

pass=0 fail=0
ok() { pass=$((pass + 1)); echo "ok   $1"; }
bad() { fail=$((fail + 1)); echo "FAIL $1"; }
eq() { if [[ "$2" == "$3" ]]; then ok "$1"; else bad "$1: got [$2], want [$3]"; fi; }
finding() { echo "FINDING $*"; }

sd() { "$AWS" --endpoint-url "$EP" servicediscovery "$@"; }
# q QUERY ARGS...: runs a call and prints what the JMESPath query selects, as text.
q() { local query=$1; shift; sd "$@" --query "$query" --output text; }
# expect_err CODE DESC ARGS...: the call fails with the CLI's service-error
# exit code and the error code in stderr.
expect_err() {
	local code=$1 desc=$2 err rc
	shift 2
	err=$(sd "$@" 2>&1 >/dev/null)
	rc=$?
	if [[ $rc -eq $ERR_RC && "$err" == *"($code)"* ]]; then ok "$desc: $code, exit $rc"; else bad "$desc: exit $rc, stderr: $err"; fi
}
has_op() { "$AWS" servicediscovery "$1" --generate-cli-skeleton >/dev/null 2>&1; }

# op ID: polls GetOperation until the operation ends; prints
# "STATUS TYPE NAMESPACE-TARGET SERVICE-TARGET".
op() {
	local r i
	for i in $(seq 1 100); do
		r=$(q '[Operation.Status, Operation.Type, Operation.Targets.NAMESPACE, Operation.Targets.SERVICE]' get-operation --operation-id "$1")
		case "$r" in
		SUCCESS* | FAIL*) echo "$r"; return ;;
		SUBMITTED* | PENDING*) sleep 0.1 ;;
		*) echo "unexpected [$r]"; return ;;
		esac
	done
	echo TIMEOUT
}
# op_done DESC ID TYPE [VAR]: the operation succeeds with that type; VAR
# receives its NAMESPACE target.
op_done() {
	local st ty ns svc
	read -r st ty ns svc <<<"$(op "$2")"
	eq "$1: operation" "$st $ty" "SUCCESS $3"
	[[ -n "${4:-}" ]] && printf -v "$4" %s "$ns"
	OP_SERVICE=$svc
}
# qj QUERY ARGS...: like q, for paginated commands: with JSON output the CLI
# merges the pages before the query; prints a string or number bare.
qj() { local query=$1; shift; sd "$@" --query "$query" --output json | sed -e 's/^"//' -e 's/"$//'; }

if ! err=$(sd list-namespaces --max-results 1 2>&1 >/dev/null); then
	echo "cairn does not answer this CLI at $EP: $err"
	echo "0 passed, 1 failed"
	exit 1
fi

# --- how this CLI reaches DiscoverInstances, whose host gets a data- prefix
# The ways tried: the environment variable, the config file setting, and an
# endpoint whose data- twin resolves (CAIRN_DATA_ENDPOINT).
probe_ns=$PREFIX-probe
op_done "create the probe namespace" "$(q OperationId create-http-namespace --name "$probe_ns")" CREATE_NAMESPACE probe_nsid
probe_svc=$(q Service.Id create-service --name p --namespace-id "$probe_nsid")
op_done "register the probe instance" "$(q OperationId register-instance --service-id "$probe_svc" --instance-id p-1 --attributes k=v)" REGISTER_INSTANCE
discover_probe() { "$@" servicediscovery discover-instances --namespace-name "$probe_ns" --service-name p --query 'length(Instances)' --output text 2>&1; }

out=$(discover_probe "$AWS" --endpoint-url "$EP" --cli-connect-timeout 3)
if [[ "$out" == *"data-"* ]]; then ok "without a setting, DiscoverInstances goes to data-<host>: $(echo "$out" | tr -s '\n' ' ')"; else bad "expected the data- prefix without a setting, got: $out"; fi

out=$(AWS_DISABLE_HOST_PREFIX_INJECTION=true discover_probe "$AWS" --endpoint-url "$EP" --cli-connect-timeout 3)
if [[ "$out" == 1 ]]; then ENV_WORKS=1; finding "CLI v$MAJOR honours AWS_DISABLE_HOST_PREFIX_INJECTION=true"
else ENV_WORKS=0; finding "CLI v$MAJOR ignores AWS_DISABLE_HOST_PREFIX_INJECTION=true: $(echo "$out" | tr -s '\n' ' ')"; fi

cfgfile=$(mktemp)
printf '[default]\ndisable_host_prefix_injection = true\n' >"$cfgfile"
out=$(AWS_CONFIG_FILE=$cfgfile discover_probe "$AWS" --endpoint-url "$EP" --cli-connect-timeout 3)
rm -f "$cfgfile"
if [[ "$out" == 1 ]]; then CFG_WORKS=1; finding "CLI v$MAJOR honours disable_host_prefix_injection = true in the config file"
else CFG_WORKS=0; finding "CLI v$MAJOR ignores disable_host_prefix_injection in the config file: $(echo "$out" | tr -s '\n' ' ')"; fi

if [[ $MAJOR == 1 ]]; then
	eq "CLI v1 honours AWS_DISABLE_HOST_PREFIX_INJECTION" "$ENV_WORKS" 1
	eq "CLI v1 honours disable_host_prefix_injection" "$CFG_WORKS" 1
fi

if [[ -n "$DATA_EP" ]]; then
	out=$(discover_probe "$AWS" --endpoint-url "$DATA_EP")
	eq "DiscoverInstances through $DATA_EP (its data- twin resolves)" "$out" 1
fi
op_done "deregister the probe instance" "$(q OperationId deregister-instance --service-id "$probe_svc" --instance-id p-1)" DEREGISTER_INSTANCE
sd delete-service --id "$probe_svc" >/dev/null || bad "delete the probe service"
op_done "delete the probe namespace" "$(q OperationId delete-namespace --id "$probe_nsid")" DELETE_NAMESPACE

# CAIRN_CLI_QUICK=1 stops here (and goes on to the SigV4 checks): the
# harness sets it for the SigV4 run, where every call above was signed,
# since each CLI call costs a Python start.
full_lifecycle() {
	# The way the lifecycle below discovers: the environment variable where
	# this CLI honours it, else a data- twin.
	if [[ $ENV_WORKS == 1 ]]; then
		dsc() { AWS_DISABLE_HOST_PREFIX_INJECTION=true sd "$@"; }
		echo "# discovering with AWS_DISABLE_HOST_PREFIX_INJECTION=true"
	elif [[ -n "$DATA_EP" ]]; then
		dsc() { "$AWS" --endpoint-url "$DATA_EP" servicediscovery "$@"; }
		echo "# discovering through $DATA_EP"
	else
		dsc() { return 1; }
		echo "# SKIP discovery: this CLI can't turn the prefix off and no data- twin resolves (set CAIRN_DATA_ENDPOINT)"
	fi
	dq() { local query=$1; shift; dsc "$@" --query "$query" --output text; }
	HAVE_DSC=1
	[[ -n "$DATA_EP" || $ENV_WORKS == 1 ]] || HAVE_DSC=0
	HAVE_REV=0
	has_op discover-instances-revision && HAVE_REV=1
	HAVE_SATTR=0
	has_op get-service-attributes && HAVE_SATTR=1
	[[ $HAVE_REV == 1 ]] || finding "CLI v$MAJOR has no discover-instances-revision (its model predates it); skipped"
	[[ $HAVE_SATTR == 1 ]] || finding "CLI v$MAJOR has no service attribute commands (its model predates them); skipped"

	# --- namespaces of the three types
	L=$PREFIX-lc
	op=$(q OperationId create-http-namespace --name "$L-http" --description "compat http" --tags Key=team,Value=a)
	op_done "create-http-namespace" "$op" CREATE_NAMESPACE ns_http
	op=$(q OperationId create-private-dns-namespace --name "$L-private.internal" --vpc vpc-0compat0000000001 \
		--properties '{"DnsProperties":{"SOA":{"TTL":60}}}')
	op_done "create-private-dns-namespace" "$op" CREATE_NAMESPACE ns_priv
	op=$(q OperationId create-public-dns-namespace --name "$L-public.example.com" --properties '{"DnsProperties":{"SOA":{"TTL":120}}}')
	op_done "create-public-dns-namespace" "$op" CREATE_NAMESPACE ns_pub
	eq "get-namespace http" "$(q 'join(`","`, [Namespace.Type, Namespace.Properties.HttpProperties.HttpName])' get-namespace --id "$ns_http")" "HTTP,$L-http"
	eq "get-namespace private" "$(q 'join(`","`, [Namespace.Type, to_string(Namespace.Properties.DnsProperties.SOA.TTL)])' get-namespace --id "$ns_priv")" "DNS_PRIVATE,60"
	eq "get-namespace public" "$(q 'join(`","`, [Namespace.Type, Namespace.Name])' get-namespace --id "$ns_pub")" "DNS_PUBLIC,$L-public.example.com"
	op=$(q OperationId update-http-namespace --id "$ns_http" --namespace Description=updated)
	op_done "update-http-namespace" "$op" UPDATE_NAMESPACE
	eq "namespace description updated" "$(q Namespace.Description get-namespace --id "$ns_http")" updated
	expect_err NamespaceAlreadyExists "create-http-namespace again" create-http-namespace --name "$L-http"

	# --- services: custom health, DNS config, a Route 53-style HTTP check
	read -r api api_arn api_type <<<"$(q '[Service.Id, Service.Arn, Service.Type]' create-service --name api --namespace-id "$ns_http" \
		--description api --health-check-custom-config '{}')"
	eq "create-service api (HTTP namespace, custom health)" "$api_type" HTTP
	batch=$(q Service.Id create-service --name batch --namespace-id "$ns_http")
	eq "create-service web (private DNS, A+AAAA)" "$(q 'join(`","`, [Service.Type, Service.DnsConfig.RoutingPolicy, Service.DnsConfig.DnsRecords[0].Type, Service.DnsConfig.DnsRecords[1].Type])' \
		create-service --name web --namespace-id "$ns_priv" --health-check-custom-config '{}' \
		--dns-config '{"RoutingPolicy":"MULTIVALUE","DnsRecords":[{"Type":"A","TTL":60},{"Type":"AAAA","TTL":60}]}')" "DNS_HTTP,MULTIVALUE,A,AAAA"
	web=$(q 'Services[0].Id' list-services --filters "Name=NAMESPACE_ID,Values=$ns_priv,Condition=EQ")
	www=$(q Service.Id create-service --name www --namespace-id "$ns_pub" \
		--dns-config '{"RoutingPolicy":"WEIGHTED","DnsRecords":[{"Type":"A","TTL":30}]}' \
		--health-check-config Type=HTTP,ResourcePath=/healthz,FailureThreshold=2)
	eq "get-service www health check" "$(q 'join(`","`, [Service.HealthCheckConfig.Type, Service.HealthCheckConfig.ResourcePath, to_string(Service.HealthCheckConfig.FailureThreshold)])' get-service --id "$www")" "HTTP,/healthz,2"
	expect_err ServiceAlreadyExists "create-service api again" create-service --name api --namespace-id "$ns_http"

	# --- instances with attributes
	register() { # SERVICE INSTANCE ATTRIBUTES
		local op
		op=$(q OperationId register-instance --service-id "$1" --instance-id "$2" --attributes "$3")
		op_done "register-instance $2" "$op" REGISTER_INSTANCE
	}
	register "$api" a-1 color=blue,stage=prod,AWS_INSTANCE_IPV4=192.0.2.1
	register "$api" a-2 color=green,stage=prod
	register "$api" a-3 color=blue,stage=dev,AWS_INIT_HEALTH_STATUS=UNHEALTHY
	register "$batch" b-1 stage=prod
	register "$web" w-1 AWS_INSTANCE_IPV4=192.0.2.10,AWS_INSTANCE_IPV6=2001:db8::10
	register "$web" w-2 AWS_INSTANCE_IPV4=192.0.2.11
	# The HTTP check probes cairn's own /healthz, which answers 200.
	register "$www" h-1 "AWS_INSTANCE_IPV4=127.0.0.1,AWS_INSTANCE_PORT=$API_PORT"
	eq "get-instance a-1" "$(q Instance.Attributes.color get-instance --service-id "$api" --instance-id a-1)" blue
	eq "instance count" "$(q Service.InstanceCount get-service --id "$api")" 3

	# --- discovery
	IDS='join(`","`, sort(Instances[].InstanceId))'
	if [[ $HAVE_DSC == 1 ]]; then
		eq "discover color=blue ALL" "$(dq "$IDS" discover-instances --namespace-name "$L-http" --service-name api --query-parameters color=blue --health-status ALL)" "a-1,a-3"
		eq "discover color=blue HEALTHY" "$(dq "$IDS" discover-instances --namespace-name "$L-http" --service-name api --query-parameters color=blue --health-status HEALTHY)" "a-1"
		eq "discover UNHEALTHY" "$(dq "$IDS" discover-instances --namespace-name "$L-http" --service-name api --health-status UNHEALTHY)" "a-3"
		eq "discover stage=dev HEALTHY_OR_ELSE_ALL" "$(dq "$IDS" discover-instances --namespace-name "$L-http" --service-name api --query-parameters stage=dev --health-status HEALTHY_OR_ELSE_ALL)" "a-3"
		eq "discover with optional parameters" "$(dq "$IDS" discover-instances --namespace-name "$L-http" --service-name api --query-parameters color=blue --optional-parameters stage=dev --health-status ALL)" "a-3"
		eq "discover max-results 1" "$(dq 'length(Instances)' discover-instances --namespace-name "$L-http" --service-name api --health-status ALL --max-results 1)" 1
		eq "discover private DNS web" "$(dq 'join(`","`, [join(`","`, sort(Instances[].InstanceId)), Instances[0].HealthStatus, Instances[0].NamespaceName])' discover-instances --namespace-name "$L-private.internal" --service-name web --health-status ALL)" "w-1,w-2,HEALTHY,$L-private.internal"
		eq "discover public DNS www (HTTP check healthy)" "$(dq "$IDS" discover-instances --namespace-name "$L-public.example.com" --service-name www --health-status HEALTHY)" "h-1"
		eq "discover batch: no health check" "$(dq 'Instances[0].HealthStatus' discover-instances --namespace-name "$L-http" --service-name batch)" UNKNOWN
		revision=$(dq InstancesRevision discover-instances --namespace-name "$L-http" --service-name api --health-status ALL)
		if [[ $HAVE_REV == 1 ]]; then
			eq "discover-instances-revision" "$(dq InstancesRevision discover-instances-revision --namespace-name "$L-http" --service-name api)" "$revision"
		fi
	fi

	# --- GetInstancesHealthStatus
	STATUS='join(`","`, [Status."a-1", Status."a-2", Status."a-3"])'
	eq "get-instances-health-status api" "$(q "$STATUS" get-instances-health-status --service-id "$api")" "HEALTHY,HEALTHY,UNHEALTHY"
	eq "get-instances-health-status --instances a-3" "$(q 'Status."a-3"' get-instances-health-status --service-id "$api" --instances a-3)" UNHEALTHY
	eq "get-instances-health-status www" "$(q 'Status."h-1"' get-instances-health-status --service-id "$www")" HEALTHY
	eq "get-instances-health-status batch" "$(q 'Status."b-1"' get-instances-health-status --service-id "$batch")" UNKNOWN
	pages=0 token="" seen=""
	while :; do
		args=(get-instances-health-status --service-id "$api" --max-results 1)
		[[ -n "$token" ]] && args+=("--next-token=$token") # "=": a token may start with "-"
		read -r page token <<<"$(q '[join(`","`, keys(Status)), NextToken]' "${args[@]}")"
		pages=$((pages + 1)) seen="$seen${seen:+,}$page"
		[[ "$token" == None || -z "$token" || $pages -ge 10 ]] && break
	done
	eq "get-instances-health-status --max-results 1, by pages" "$pages:$seen" "3:a-1,a-2,a-3"

	# --- UpdateInstanceCustomHealthStatus
	sd update-instance-custom-health-status --service-id "$api" --instance-id a-1 --status UNHEALTHY && ok "update-instance-custom-health-status a-1 UNHEALTHY" || bad "update-instance-custom-health-status a-1"
	sd update-instance-custom-health-status --service-id "$api" --instance-id a-3 --status HEALTHY && ok "update-instance-custom-health-status a-3 HEALTHY" || bad "update-instance-custom-health-status a-3"
	eq "health after update" "$(q "$STATUS" get-instances-health-status --service-id "$api")" "UNHEALTHY,HEALTHY,HEALTHY"
	if [[ $HAVE_DSC == 1 ]]; then
		eq "discover color=blue HEALTHY after update" "$(dq "$IDS" discover-instances --namespace-name "$L-http" --service-name api --query-parameters color=blue --health-status HEALTHY)" "a-3"
		eq "health changes keep InstancesRevision" "$(dq InstancesRevision discover-instances --namespace-name "$L-http" --service-name api --health-status ALL)" "$revision"
	fi
	expect_err CustomHealthNotFound "custom health on a service without it" update-instance-custom-health-status --service-id "$batch" --instance-id b-1 --status HEALTHY

	# --- UpdateService
	op=$(q OperationId update-service --id "$www" --service \
		'{"Description":"updated","DnsConfig":{"DnsRecords":[{"Type":"A","TTL":45}]},"HealthCheckConfig":{"Type":"HTTP","ResourcePath":"/healthz","FailureThreshold":3}}')
	op_done "update-service www" "$op" UPDATE_SERVICE
	eq "update-service target" "$OP_SERVICE" "$www"
	eq "service after update" "$(q 'join(`","`, [Service.Description, to_string(Service.DnsConfig.DnsRecords[0].TTL), to_string(Service.HealthCheckConfig.FailureThreshold)])' get-service --id "$www")" "updated,45,3"
	expect_err InvalidInput "update-service in an HTTP namespace" update-service --id "$api" --service Description=x

	# --- tags
	ns_arn=$(q Namespace.Arn get-namespace --id "$ns_http")
	TAGS='join(`","`, sort_by(Tags, &Key)[].join(`"="`, [Key, Value]))'
	sd tag-resource --resource-arn "$ns_arn" --tags Key=env,Value=test Key=owner,Value=compat && ok "tag-resource namespace" || bad "tag-resource namespace"
	eq "list-tags-for-resource" "$(q "$TAGS" list-tags-for-resource --resource-arn "$ns_arn")" "env=test,owner=compat,team=a"
	sd untag-resource --resource-arn "$ns_arn" --tag-keys team owner && ok "untag-resource" || bad "untag-resource"
	eq "tags after untag" "$(q "$TAGS" list-tags-for-resource --resource-arn "$ns_arn")" "env=test"
	sd tag-resource --resource-arn "$api_arn" --tags Key=tier,Value=gold && ok "tag-resource service" || bad "tag-resource service"
	eq "service tags" "$(q "$TAGS" list-tags-for-resource --resource-arn "$api_arn")" "tier=gold"
	expect_err ResourceNotFoundException "tags of an unknown ARN" list-tags-for-resource --resource-arn "${api_arn%/*}/srv-aaaaaaaaaaaaaaaa"

	# --- service attributes
	if [[ $HAVE_SATTR == 1 ]]; then
		sd update-service-attributes --service-id "$api" --attributes version=1,tier=gold && ok "update-service-attributes" || bad "update-service-attributes"
		eq "get-service-attributes" "$(q 'join(`","`, [ServiceAttributes.ServiceArn, ServiceAttributes.Attributes.version, ServiceAttributes.Attributes.tier])' get-service-attributes --service-id "$api")" "$api_arn,1,gold"
		sd delete-service-attributes --service-id "$api" --attributes tier && ok "delete-service-attributes" || bad "delete-service-attributes"
		eq "attributes after delete" "$(q 'join(`","`, keys(ServiceAttributes.Attributes))' get-service-attributes --service-id "$api")" "version"
	fi

	# --- every List: --max-results 1 with --next-token by hand, then the CLI's
	# own paginator (--page-size 1, and --max-items 1 with --starting-token)
	# manual LISTCMD RESULTKEY NAMEFIELD ARGS...: prints pages:names
	manual() {
		local cmd=$1 key=$2 field=$3 token="" pages=0 names="" page
		shift 3
		while :; do
			local args=("$cmd" "$@" --max-results 1)
			[[ -n "$token" ]] && args+=("--next-token=$token") # "=": a token may start with "-"
			read -r page token <<<"$(q "[join(\`\",\"\`, $key[].$field), NextToken]" "${args[@]}")"
			pages=$((pages + 1)) names="$names${names:+,}$page"
			[[ "$token" == None || -z "$token" || $pages -ge 20 ]] && break
		done
		echo "$pages:$names"
	}
	eq "list-services --max-results 1 (NAMESPACE_ID filter)" "$(manual list-services Services Name --filters "Name=NAMESPACE_ID,Values=$ns_http")" "2:api,batch"
	eq "list-instances --max-results 1" "$(manual list-instances Instances Id --service-id "$api")" "3:a-1,a-2,a-3"
	eq "list-namespaces --max-results 1 (TYPE filter)" "$(manual list-namespaces Namespaces Name --filters Name=TYPE,Values=DNS_PUBLIC,Condition=EQ)" "1:$L-public.example.com"
	got=$(manual list-operations Operations Status --filters "Name=SERVICE_ID,Values=$api" Name=TYPE,Values=REGISTER_INSTANCE)
	eq "list-operations --max-results 1 (SERVICE_ID and TYPE filters)" "$got" "3:SUCCESS,SUCCESS,SUCCESS"
	eq "list-namespaces --page-size 1" "$(qj "join(\`\",\"\`, sort(Namespaces[?starts_with(Name, \`\"$L-\"\`)].Name))" list-namespaces --page-size 1)" "$L-http,$L-private.internal,$L-public.example.com"
	eq "list-services --page-size 1" "$(qj 'join(`","`, sort(Services[].Name))' list-services --page-size 1 --filters "Name=NAMESPACE_ID,Values=$ns_http")" "api,batch"
	eq "list-instances --page-size 1" "$(qj 'join(`","`, Instances[].Id)' list-instances --service-id "$web" --page-size 1)" "w-1,w-2"
	eq "list-operations --page-size 1" "$(qj 'length(Operations)' list-operations --page-size 1 --filters "Name=NAMESPACE_ID,Values=$ns_http" Name=STATUS,Values=SUCCESS)" 6
	read -r first next <<<"$(qj 'join(`" "`, [Instances[0].Id, NextToken])' list-instances --service-id "$api" --max-items 1)"
	eq "list-instances --max-items 1" "$first" a-1
	eq "list-instances --starting-token" "$(qj 'join(`","`, Instances[].Id)' list-instances --service-id "$api" "--starting-token=$next")" "a-2,a-3"

	# --- what can't be deleted yet
	expect_err ResourceInUse "delete-service with instances" delete-service --id "$api"
	expect_err ResourceInUse "delete-namespace with services" delete-namespace --id "$ns_http"

	# --- deregister, delete
	for pair in "$api a-1" "$api a-2" "$api a-3" "$batch b-1" "$web w-1" "$web w-2" "$www h-1"; do
		read -r svc iid <<<"$pair"
		op=$(q OperationId deregister-instance --service-id "$svc" --instance-id "$iid")
		op_done "deregister-instance $iid" "$op" DEREGISTER_INSTANCE
	done
	expect_err InstanceNotFound "get-instance after deregister" get-instance --service-id "$api" --instance-id a-1
	if [[ $HAVE_DSC == 1 ]]; then
		eq "discover after deregister" "$(dq 'length(Instances)' discover-instances --namespace-name "$L-http" --service-name api --health-status ALL)" 0
	fi
	for svc in "$api" "$batch" "$web" "$www"; do
		sd delete-service --id "$svc" && ok "delete-service $svc" || bad "delete-service $svc"
	done
	expect_err ServiceNotFound "get-service after delete" get-service --id "$api"
	for ns in "$ns_http" "$ns_priv" "$ns_pub"; do
		op=$(q OperationId delete-namespace --id "$ns")
		op_done "delete-namespace $ns" "$op" DELETE_NAMESPACE
	done
	expect_err NamespaceNotFound "get-namespace after delete" get-namespace --id "$ns_http"
	eq "no namespaces left" "$(qj "length(Namespaces[?starts_with(Name, \`\"$L-\"\`)])" list-namespaces)" 0

	# --- the other main errors
	expect_err InvalidInput "create-http-namespace with a bad name" create-http-namespace --name "bad name"
	expect_err NamespaceNotFound "create-service in an unknown namespace" create-service --name x --namespace-id ns-aaaaaaaaaaaaaaaa
	expect_err OperationNotFound "get-operation unknown" get-operation --operation-id nope
	if [[ $HAVE_DSC == 1 ]]; then
		err=$(dsc discover-instances --namespace-name "$PREFIX-nowhere" --service-name x 2>&1 >/dev/null)
		rc=$?
		[[ $rc -eq $ERR_RC && "$err" == *"(NamespaceNotFound)"* ]] && ok "discover in an unknown namespace: NamespaceNotFound" || bad "discover unknown namespace: exit $rc: $err"
	fi
}
if [[ ${CAIRN_CLI_QUICK:-0} == 1 ]]; then
	echo "# CAIRN_CLI_QUICK=1: SKIP the full lifecycle"
else
	full_lifecycle
fi

# --- Route 53's read side on the same port: the zone of a DNS namespace,
# its record sets (paged), the health checks of its instances. Run in both
# modes: in SigV4 mode the CLI signs for route53 with the same keys.
r53() { "$AWS" --endpoint-url "$EP" route53 "$@"; }
route53_read() {
	local name="$PREFIX-r53.test" op r53ns zone svc i
	op=$(q OperationId create-public-dns-namespace --name "$name")
	op_done "route53: create-public-dns-namespace" "$op" CREATE_NAMESPACE r53ns
	zone=$(q Namespace.Properties.DnsProperties.HostedZoneId get-namespace --id "$r53ns")
	svc=$(q Service.Id create-service --name web --namespace-id "$r53ns" \
		--dns-config 'RoutingPolicy=WEIGHTED,DnsRecords=[{Type=A,TTL=60}]' \
		--health-check-config "Type=HTTP,ResourcePath=/healthz")
	for i in 1 2 3; do
		op=$(q OperationId register-instance --service-id "$svc" --instance-id "w-$i" \
			--attributes "AWS_INSTANCE_IPV4=127.0.0.1,AWS_INSTANCE_PORT=$API_PORT")
		op_done "route53: register w-$i" "$op" REGISTER_INSTANCE
	done
	eq "route53 get-hosted-zone" "$(r53 get-hosted-zone --id "$zone" --query '[HostedZone.Name, HostedZone.Config.PrivateZone, HostedZone.LinkedService.ServicePrincipal, HostedZone.ResourceRecordSetCount]' --output text)" \
		"$name.	False	servicediscovery.amazonaws.com	5"
	eq "route53 list-hosted-zones-by-name" "$(r53 list-hosted-zones-by-name --dns-name "$name" --max-items 1 --query 'HostedZones[0].Id' --output text)" "/hostedzone/$zone"
	# The CLI pages with MaxItems 1 and, with JSON output, merges the pages
	# before the query.
	eq "route53 list-resource-record-sets, paged" "$(r53 list-resource-record-sets --hosted-zone-id "$zone" --page-size 1 --query 'join(`,`, ResourceRecordSets[].join(`:`, [Type, to_string(SetIdentifier)]))' --output json | sed -e 's/^"//' -e 's/"$//')" \
		"NS:null,SOA:null,A:w-1,A:w-2,A:w-3"
	eq "route53 weighted record" "$(r53 list-resource-record-sets --hosted-zone-id "$zone" --query "ResourceRecordSets[?SetIdentifier=='w-2'].[Weight, TTL, ResourceRecords[0].Value]" --output text)" "1	60	127.0.0.1"
	local hc
	hc=$(r53 list-resource-record-sets --hosted-zone-id "$zone" --query "ResourceRecordSets[?SetIdentifier=='w-1'].HealthCheckId" --output text)
	eq "route53 get-health-check" "$(r53 get-health-check --health-check-id "$hc" --query '[HealthCheck.HealthCheckConfig.Type, HealthCheck.HealthCheckConfig.Port, HealthCheck.HealthCheckConfig.ResourcePath]' --output text)" \
		"HTTP	$API_PORT	/healthz"
	eq "route53 list-health-checks, paged" "$(r53 list-health-checks --page-size 1 --query "length(HealthChecks[?HealthCheckConfig.ResourcePath=='/healthz' && HealthCheckConfig.Port==\`$API_PORT\`])" --output json)" 3
	eq "route53 get-health-check-status" "$(r53 get-health-check-status --health-check-id "$hc" --query 'HealthCheckObservations[0].StatusReport.Status' --output text | cut -d: -f1)" Success
	local err rc
	err=$(r53 delete-hosted-zone --id "$zone" 2>&1 >/dev/null)
	rc=$?
	[[ $rc -eq $ERR_RC && "$err" == *"(AccessDenied)"* ]] && ok "route53 delete-hosted-zone: AccessDenied" || bad "route53 delete-hosted-zone: exit $rc: $err"
	err=$(r53 get-hosted-zone --id Z0000000000000000000 2>&1 >/dev/null)
	rc=$?
	[[ $rc -eq $ERR_RC && "$err" == *"(NoSuchHostedZone)"* ]] && ok "route53 unknown zone: NoSuchHostedZone" || bad "route53 unknown zone: exit $rc: $err"
	if [[ $AUTH == 1 ]]; then
		err=$(AWS_SECRET_ACCESS_KEY="${AWS_SECRET_ACCESS_KEY:-}x" r53 get-hosted-zone-count 2>&1 >/dev/null)
		rc=$?
		[[ $rc -eq $ERR_RC && "$err" == *"(SignatureDoesNotMatch)"* ]] && ok "route53 wrong secret: SignatureDoesNotMatch" || bad "route53 wrong secret: exit $rc: $err"
	fi
	for i in 1 2 3; do
		op=$(q OperationId deregister-instance --service-id "$svc" --instance-id "w-$i")
		op_done "route53: deregister w-$i" "$op" DEREGISTER_INSTANCE
	done
	sd delete-service --id "$svc" >/dev/null
	op=$(q OperationId delete-namespace --id "$r53ns")
	op_done "route53: delete-namespace" "$op" DELETE_NAMESPACE
}
route53_read

# --- SigV4: the keys of the environment work (every call above); others are refused
if [[ $AUTH == 1 ]]; then
	err=$(AWS_SECRET_ACCESS_KEY="${AWS_SECRET_ACCESS_KEY:-}x" sd list-namespaces 2>&1 >/dev/null)
	rc=$?
	[[ $rc -eq $ERR_RC && "$err" == *"(InvalidSignatureException)"* ]] && ok "wrong secret: InvalidSignatureException" || bad "wrong secret: exit $rc: $err"
	err=$(AWS_ACCESS_KEY_ID=AKIDCAIRNUNKNOWN sd list-namespaces 2>&1 >/dev/null)
	rc=$?
	[[ $rc -eq $ERR_RC && "$err" == *"(UnrecognizedClientException)"* ]] && ok "unknown key: UnrecognizedClientException" || bad "unknown key: exit $rc: $err"
	err=$(sd list-namespaces --no-sign-request 2>&1 >/dev/null)
	rc=$?
	[[ $rc -eq $ERR_RC && "$err" == *"(MissingAuthenticationTokenException)"* ]] && ok "unsigned: MissingAuthenticationTokenException" || bad "unsigned: exit $rc: $err"
fi

echo "$pass passed, $fail failed"
[[ $fail -eq 0 ]]
