import { Grid } from 'antd';

/** 'small' cards on a phone (below antd's `sm`, 576 px): 12 px padding instead of 24 leaves room for content. */
export function useCardSize(): 'small' | 'medium' {
  const screens = Grid.useBreakpoint();
  return screens.sm === false ? 'small' : 'medium';
}
