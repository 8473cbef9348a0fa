/** Shanghai's sixteen districts, weighted roughly by population and activity, for the demo data. */
export const SHANGHAI_DISTRICTS: ReadonlyArray<readonly [string, number]> = [
  ["浦东新区", 22],
  ["闵行区", 10],
  ["徐汇区", 8],
  ["静安区", 8],
  ["黄浦区", 7],
  ["长宁区", 6],
  ["普陀区", 6],
  ["杨浦区", 6],
  ["宝山区", 6],
  ["虹口区", 5],
  ["嘉定区", 5],
  ["松江区", 5],
  ["青浦区", 3],
  ["奉贤区", 3],
  ["金山区", 2],
  ["崇明区", 1],
];
