// The Jinja engine's constructs and error messages. The expected outputs of
// the construct table are what jinja2 renders with Hugging Face's settings
// (tests/oracles/render_chat_template.py made them); the parity test checks
// real chat templates against jinja2 itself.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "mlxt/tokenizer/jinja/template.h"
#include "support/test_support.h"

namespace {

using mlxt::tokenizer::jinja::Limits;
using mlxt::tokenizer::jinja::Template;
using ojson = nlohmann::ordered_json;

std::string render(const std::string& source,
                   const ojson& variables = ojson::object(),
                   const Limits& limits = {}) {
  return Template::parse(source, {"t.jinja", ""}).render(variables, limits);
}

struct ConstructCase {
  const char* source;
  const char* variables; // JSON object
  const char* expected;  // jinja2's output
};

const ConstructCase kConstructs[] = {
    {"{% if true %}\n  yes\n{% endif %}\nend", "{}", "  yes\nend"},
    {"a  {%- if true -%}  b  {%- endif -%}  c", "{}", "abc"},
    {"  {{ 'x' }}\n  {% if true %}y{% endif %}\n", "{}", "  x\ny"},
    {"{# comment #}\n{{ 1 }}{#- c -#}  {{ 2 }}", "{}", "12"},
    {"{% for x in xs %}{{ loop.index }}/{{ loop.index0 }}/{{ loop.revindex "
     "}}/{{ loop.length }}:{{ x }}{% if loop.first %}F{% endif %}{% if "
     "loop.last %}L{% endif %};{% endfor %}",
     "{\"xs\": [\"a\", \"b\", \"c\"]}",
     "1/0/3/3:aF;2/1/2/3:b;3/2/1/3:cL;"},
    {"{% for x in xs %}{{ loop.previtem }}>{{ x }}>{{ loop.nextitem }} {% "
     "endfor %}",
     "{\"xs\": [1, 2, 3]}",
     ">1>2 1>2>3 2>3> "},
    {"{% for x in [] %}x{% else %}empty{% endfor %}", "{}", "empty"},
    {"{% for x in xs if x > 1 %}{{ x }}{{ loop.index }}{% endfor %}",
     "{\"xs\": [1, 2, 3]}",
     "2132"},
    {"{% for k, v in d.items() %}{{ k }}={{ v }};{% endfor %}",
     "{\"d\": {\"b\": 1, \"a\": 2}}",
     "b=1;a=2;"},
    {"{% for x in range(5) %}{% if x == 1 %}{% continue %}{% endif %}{% if x "
     "== 3 %}{% break %}{% endif %}{{ x }}{% endfor %}",
     "{}",
     "02"},
    {"{% if n > 5 %}big{% elif n > 2 %}mid{% else %}small{% endif %}",
     "{\"n\": 3}",
     "mid"},
    {"{% set x = 1 %}{% for i in [1,2] %}{% set x = i %}{% endfor %}{{ x }}",
     "{}",
     "1"},
    {"{% set ns = namespace(count=0) %}{% for i in [1,2,3] %}{% set ns.count = "
     "ns.count + i %}{% endfor %}{{ ns.count }}",
     "{}",
     "6"},
    {"{% set block %}  inner {{ 1 + 1 }}  {% endset %}[{{ block }}]",
     "{}",
     "[  inner 2  ]"},
    {"{% macro greet(name, punct='!') %}Hi {{ name }}{{ punct }}{% endmacro "
     "%}{{ greet('Bob') }} {{ greet('Al', punct='?') }}",
     "{}",
     "Hi Bob! Hi Al?"},
    {"{% macro wrap() %}<{{ caller() }}>{% endmacro %}{% call wrap() %}body{% "
     "endcall %}",
     "{}",
     "<body>"},
    {"{{ 1 + 2 * 3 }} {{ 7 // 2 }} {{ -7 // 2 }} {{ 7 % 3 }} {{ -7 % 3 }} {{ 7 "
     "/ 2 }} {{ 2 ** 10 }} {{ 1.5 + 1 }} {{ 0.1 + 0.2 }} {{ 1e20 }} {{ 3.0 }}",
     "{}",
     "7 3 -4 1 2 3.5 1024 2.5 0.30000000000000004 1e+20 3.0"},
    {"{{ 'a' ~ 1 ~ none ~ true }} {{ 'ab' * 3 }} {{ [1, 'a', none, true, 1.5] "
     "}} {{ {'k': 'v', 'n': [1]} }} {{ (1,) }}",
     "{}",
     "a1NoneTrue ababab [1, 'a', None, True, 1.5] {'k': 'v', 'n': [1]} (1,)"},
    {"{{ 1 < 2 < 3 }} {{ 'b' in 'abc' }} {{ 2 not in [1, 2] }} {{ not false "
     "and (true or false) }} {{ 1 == 1.0 }} {{ 'a' != 'b' }}",
     "{}",
     "True True False True True True"},
    {"{{ 'yes' if x else 'no' }} {{ 'only' if false }}|", "{\"x\": 0}", "no |"},
    {"{{ m.role }} {{ m['content'] }} {{ xs[-1] }} {{ xs[1:] }} {{ xs[::-1] }} "
     "{{ 'hello'[1:4] }} {{ 'héllo'[::-1] }} {{ xs.0 }}",
     "{\"m\": {\"role\": \"user\", \"content\": \"hi\"}, \"xs\": [1, 2, 3]}",
     "user hi 3 [2, 3] [3, 2, 1] ell olléh 1"},
    {"{{ '  a b  ' | trim }}|{{ 'xxaxx' | trim('x') }}|{{ 'Hello' | lower "
     "}}|{{ 'hello' | upper }}|{{ 'hello world-foo' | title }}|{{ 'hELLO' | "
     "capitalize }}|{{ 'aaa' | replace('a', 'b', 2) }}",
     "{}",
     "a b|a|hello|HELLO|Hello World-Foo|Hello|bba"},
    {"{{ [1, 2, 3] | join(', ') }}|{{ xs | first }}|{{ xs | last }}|{{ xs | "
     "length }}|{{ 'abc' | count }}|{{ 'abc' | list }}|{{ xs | reverse | list "
     "}}",
     "{\"xs\": [3, 1, 2]}",
     "1, 2, 3|3|2|3|3|['a', 'b', 'c']|[2, 1, 3]"},
    {"{{ undefined_var | default('dflt') }}|{{ '' | default('empty', true) "
     "}}|{{ none | d('x') }}|{{ 42 | string }}|{{ '12' | int + 1 }}|{{ 'x' | "
     "int }}|{{ '1.5' | float }}|{{ -3 | abs }}|{{ 2.567 | round(2) }}|{{ 2.5 "
     "| round }}",
     "{}",
     "dflt|empty|None|42|13|0|1.5|3|2.57|2.0"},
    {"{{ d | items | list }}|{{ d | dictsort }}|{{ xs | sort }}|{{ xs | "
     "sort(reverse=true) }}|{{ people | sort(attribute='age') | "
     "map(attribute='name') | join(',') }}|{{ [1, 2, 1, 3] | unique | list }}",
     "{\"d\": {\"b\": 2, \"a\": 1}, \"xs\": [3, 1, 2], \"people\": [{\"name\": "
     "\"x\", \"age\": 30}, {\"name\": \"y\", \"age\": 20}]}",
     "[('b', 2), ('a', 1)]|[('a', 1), ('b', 2)]|[1, 2, 3]|[3, 2, 1]|y,x|[1, 2, "
     "3]"},
    {"{{ msgs | selectattr('role', 'equalto', 'user') | "
     "map(attribute='content') | join('+') }}|{{ msgs | rejectattr('role', "
     "'eq', 'user') | list | length }}|{{ [1, 2, 3, 4] | select('even') | list "
     "}}|{{ ['a', 'B'] | map('upper') | list }}",
     "{\"msgs\": [{\"role\": \"user\", \"content\": \"a\"}, {\"role\": "
     "\"assistant\", \"content\": \"b\"}, {\"role\": \"user\", \"content\": "
     "\"c\"}]}",
     "a+c|1|[2, 4]|['A', 'B']"},
    {"{{ data | tojson }}|{{ data | tojson(indent=2) }}|{{ 'é\"\\n' | tojson "
     "}}|{{ {'b': 1, 'a': [1.0, none, true]} | tojson(sort_keys=true) }}",
     "{\"data\": {\"name\": \"f\", \"args\": {\"x\": 1, \"y\": [1, 2]}, \"u\": "
     "\"日本\"}}",
     "{\"name\": \"f\", \"args\": {\"x\": 1, \"y\": [1, 2]}, \"u\": "
     "\"日本\"}|{\n  \"name\": \"f\",\n  \"args\": {\n    \"x\": 1,\n    "
     "\"y\": [\n      1,\n      2\n    ]\n  },\n  \"u\": "
     "\"日本\"\n}|\"é\\\"\\n\"|{\"a\": [1.0, null, true], \"b\": 1}"},
    {"{{ 'line1\\nline2\\n\\nline4' | indent(2) }}|{{ 'a\\nb' | indent(4, "
     "true) }}|{{ 'a\\n\\nb' | indent('> ', blank=true) }}|{{ 'one two  three' "
     "| wordcount }}|{{ 'safe<' | safe }}",
     "{}",
     "line1\n  line2\n\n  line4|    a\n    b|a\n> \n> b|3|safe<"},
    {"{{ x is defined }} {{ y is undefined }} {{ none is none }} {{ 's' is "
     "string }} {{ {} is mapping }} {{ [] is iterable }} {{ 'a' is sequence }} "
     "{{ 1 is number }} {{ 1 is integer }} {{ 1.0 is integer }} {{ true is "
     "boolean }} {{ true is true }} {{ 0 is false }} {{ 4 is even }} {{ 3 is "
     "odd }} {{ 9 is divisibleby 3 }} {{ 1 is equalto 1 }} {{ 1 is eq 2 }} {{ "
     "2 is in [1, 2] }} {{ range is callable }} {{ x is not none }}",
     "{\"x\": 1}",
     "True True True True True True True True True False True True False True "
     "True True True False True True True"},
    {"{{ '  ab  '.strip() }}|{{ 'xxabxx'.lstrip('x') }}|{{ "
     "'xxabxx'.rstrip('x') }}|{{ 'a,b,,c'.split(',') }}|{{ ' a  b '.split() "
     "}}|{{ 'abc'.startswith('ab') }}|{{ 'abc'.endswith(('x', 'c')) }}|{{ "
     "'ab'.upper() }}|{{ 'AB'.lower() }}|{{ 'hello world'.title() }}|{{ "
     "'aXa'.replace('a', 'b') }}|{{ '{} and {name}'.format(1, name='n') }}|{{ "
     "'abcabc'.find('c') }}|{{ 'abcabc'.count('bc') }}|{{ '-'.join(['a', 'b']) "
     "}}",
     "{}",
     "ab|abxx|xxab|['a', 'b', '', 'c']|['a', 'b']|True|True|AB|ab|Hello "
     "World|bXb|1 and n|2|2|a-b"},
    {"{{ d.get('a') }}|{{ d.get('z', 'none') }}|{{ d.get('z') }}|{{ d.keys() | "
     "list }}|{{ d.values() | list }}|{% for k in d %}{{ k }}{% endfor %}",
     "{\"d\": {\"a\": 1, \"b\": 2}}",
     "1|none|None|['a', 'b']|[1, 2]|ab"},
    {"[{{ missing }}]{{ missing is defined }}{% if missing %}x{% endif %}{% "
     "for i in missing %}x{% endfor %}{{ missing | length }}{{ m.nokey }}|{{ "
     "m.nokey is defined }}",
     "{\"m\": {}}",
     "[]False0|False"},
    {"{% raw %}{{ not rendered }}{% endraw %}", "{}", "{{ not rendered }}"},
    {"{%- for m in messages %}\n  {%- if m.role == 'user' %}\n    {{- '[U]' + "
     "m.content }}\n  {%- else %}\n    {{- '[A]' + m.content }}\n  {%- endif "
     "%}\n{%- endfor %}\n",
     "{\"messages\": [{\"role\": \"user\", \"content\": \"hi\"}, {\"role\": "
     "\"assistant\", \"content\": \"yo\"}]}",
     "[U]hi[A]yo"},
    {"{{ 'it''s' }} {{ \"a\\tb\" }} {{ '\\u00e9\\x41' }}", "{}", "its a\tb éA"},
    {"{{ 'abc' | center(9) }}|{{ [1,2,3] | sum }}|{{ [3,1,2] | max }}|{{ "
     "[3,1,2] | min }}|{{ '%s is %d' | format('x', 3) }}|{{ 'a%sb' % 'X' }}|{{ "
     "'hello' | e }}",
     "{}",
     "   abc   |6|3|1|x is 3|aXb|hello"},
    {"{% set a, b = 1, 2 %}{{ a }}{{ b }}{% set t = ('x', 'y') %}{{ t[0] }}{{ "
     "t | length }}",
     "{}",
     "12x2"},
    {"{% filter upper %}shout {{ 'it' }}{% endfilter %}", "{}", "SHOUT IT"},
    {"{% for i in range(3) %}{{ loop.cycle('odd', 'even') }} {% endfor %}",
     "{}",
     "odd even odd "},
    {"{% generation %}gen{% endgeneration %}", "{}", "gen"},
};

TEST(Jinja, ConstructsRenderAsInJinja2) {
  for (const ConstructCase& c : kConstructs) {
    SCOPED_TRACE(c.source);
    try {
      EXPECT_EQ(render(c.source, ojson::parse(c.variables)), c.expected);
    } catch (const mlxt::Error& e) {
      ADD_FAILURE() << e.what();
    }
  }
}

TEST(Jinja, StrftimeNowFormatsTheLocalTime) {
  std::string year = render("{{ strftime_now('%Y') }}");
  ASSERT_EQ(year.size(), 4u);
  EXPECT_GE(std::stoi(year), 2024);
}

TEST(JinjaErrors, SyntaxErrorNamesTheLine) {
  EXPECT_MLXT_ERROR(
      render("a\nb\n{% if x %}\nc"),
      invalid_model,
      "t.jinja:4: syntax error in the template: unexpected end of "
      "template; expected 'elif' or 'else' or 'endif'");
  EXPECT_MLXT_ERROR(render("ok\n{{ 1 + }}"),
                    invalid_model,
                    "t.jinja:2: syntax error in the template: expected an "
                    "expression but found '}}'");
  EXPECT_MLXT_ERROR(render("{{ 'open"), invalid_model, "unterminated string");
  EXPECT_MLXT_ERROR(render("{% endfor %}"),
                    invalid_model,
                    "unexpected 'endfor' with no open block");
}

TEST(JinjaErrors, UnsupportedConstructsAreNamed) {
  EXPECT_MLXT_ERROR(render("x\n{{ name | frobnicate }}"),
                    unsupported,
                    "t.jinja:2: unsupported Jinja: no filter named "
                    "'frobnicate'");
  EXPECT_MLXT_ERROR(render("{% if x is frobnicated %}{% endif %}"),
                    unsupported,
                    "no test named 'frobnicated'");
  EXPECT_MLXT_ERROR(render("{% include 'other.jinja' %}"),
                    unsupported,
                    "the 'include' tag is not supported");
}

TEST(JinjaErrors, TemplateInsideAJsonKeyNamesTheTemplateLine) {
  EXPECT_MLXT_ERROR(
      Template::parse("\n\n{{ x | nope }}",
                      {"m/tokenizer_config.json", "chat_template"}),
      unsupported,
      "m/tokenizer_config.json: chat_template: template line 3: "
      "unsupported Jinja: no filter named 'nope'");
}

TEST(JinjaErrors, RuntimeErrorsMatchJinja2) {
  EXPECT_MLXT_ERROR(render("{{ raise_exception('Conversation roles must "
                           "alternate') }}"),
                    invalid_data,
                    "t.jinja:1: the template raised an error: Conversation "
                    "roles must alternate");
  EXPECT_MLXT_ERROR(render("\n{{ missing.attribute }}"),
                    invalid_data,
                    "t.jinja:2: rendering the template failed: 'missing' is "
                    "undefined");
  EXPECT_MLXT_ERROR(render("{{ 'a' + 1 }}"),
                    invalid_data,
                    "unsupported operand type(s) for +: 'str' and 'int'");
  EXPECT_MLXT_ERROR(render("{% set xs = [] %}{{ xs.append(1) }}"),
                    invalid_data,
                    "access to attribute 'append' of 'list' object is unsafe");
  EXPECT_MLXT_ERROR(
      render("{{ range(1000000) | length }}"), invalid_data, "Range too big");
  EXPECT_MLXT_ERROR(render("{{ {'a': 1} | tojson }}{{ x | tojson }}"),
                    invalid_data,
                    "Undefined is not JSON serializable");
}

TEST(JinjaErrors, StepLimitStopsEndlessLoops) {
  EXPECT_MLXT_ERROR(render("{% for i in range(100000) %}{% for j in "
                           "range(100000) %}{% endfor %}{% endfor %}"),
                    invalid_model,
                    "the step limit");
  Limits small;
  small.max_steps = 1000;
  EXPECT_MLXT_ERROR(render("{% for i in range(10 ** 4) %}{{ i }}{% endfor %}",
                           ojson::object(),
                           small),
                    invalid_model,
                    "more than 1000 steps (the step limit)");
  EXPECT_EQ(render("{% for i in range(3) %}{{ i }}{% endfor %}",
                   ojson::object(),
                   small),
            "012");
}

TEST(JinjaErrors, OutputLimitStopsHugeText) {
  Limits small;
  small.max_output = 1000;
  EXPECT_MLXT_ERROR(render("{{ 'x' * 10 ** 9 }}", ojson::object(), small),
                    invalid_model,
                    "the output limit");
  EXPECT_MLXT_ERROR(
      render("{% for i in range(2000) %}x{% endfor %}", ojson::object(), small),
      invalid_model,
      "more than 1000 bytes (the output limit)");
  EXPECT_MLXT_ERROR(render("{% set ns = namespace(s='ab') %}{% for i in "
                           "range(20) %}{% set ns.s = ns.s ~ ns.s %}"
                           "{% endfor %}",
                           ojson::object(),
                           small),
                    invalid_model,
                    "the output limit");
}

TEST(JinjaErrors, DeepNestingAndCyclesAreRefused) {
  EXPECT_MLXT_ERROR(render("{{ " + std::string(300, '(') + "1" +
                           std::string(300, ')') + " }}"),
                    unsupported,
                    "nests deeper than 200 levels");
  std::string sum = "{{ 1";
  for (int i = 0; i < 1000; ++i) {
    sum += " + 1";
  }
  EXPECT_MLXT_ERROR(render(sum + " }}"),
                    unsupported,
                    "an expression nests deeper than 200 levels");
  EXPECT_MLXT_ERROR(
      render("{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}"),
      invalid_model,
      "macro calls nested deeper than 100 levels");
  EXPECT_MLXT_ERROR(render("{% set ns = namespace(x=1) %}{% for i in "
                           "range(1000) %}{% set ns.x = [ns.x] %}{% endfor %}"),
                    invalid_model,
                    "a value nested deeper than 256 levels");
  EXPECT_MLXT_ERROR(render("{% set ns = namespace() %}{% set ns.me = [ns] %}"),
                    unsupported,
                    "storing a namespace inside a namespace attribute");
}

} // namespace
